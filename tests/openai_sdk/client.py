"""Drives the official OpenAI Python SDK against our gateway for tests/openai_api.rs.

usage: client.py BASE_URL API_KEY SCENARIO [MODEL]  -> prints one JSON object (what the SDK saw).
The SDK's own retries are off (max_retries=0) so a status reaches the test as it was sent.
"""
import json
import sys

import openai

base_url, api_key, scenario = sys.argv[1], sys.argv[2], sys.argv[3]
model = sys.argv[4] if len(sys.argv) > 4 else "openclaw"
client = openai.OpenAI(base_url=base_url, api_key=api_key, max_retries=0, timeout=30)
out = {"scenario": scenario, "sdk": openai.__version__}


def error(e):
    return {"exception": type(e).__name__, "status": getattr(e, "status_code", None),
            "message": str(e)}


try:
    if scenario == "non-stream":
        r = client.chat.completions.create(
            model="openclaw", messages=[{"role": "user", "content": "hi"}])
        out.update(text=r.choices[0].message.content, finish=r.choices[0].finish_reason,
                   model=r.model, object=r.object, id=r.id,
                   usage=r.usage.model_dump() if r.usage else None)
    elif scenario == "stream":
        stream = client.chat.completions.create(
            model="openclaw/main", messages=[{"role": "user", "content": "hi"}], stream=True,
            stream_options={"include_usage": True})
        pieces, finish, usage, roles = [], None, None, []
        for chunk in stream:
            if chunk.usage is not None:
                usage = chunk.usage.model_dump()
            for c in chunk.choices:
                if c.delta.role:
                    roles.append(c.delta.role)
                if c.delta.content:
                    pieces.append(c.delta.content)
                if c.finish_reason:
                    finish = c.finish_reason
        out.update(pieces=pieces, text="".join(pieces), finish=finish, usage=usage, roles=roles)
    elif scenario == "tools":
        tools = [{"type": "function", "function": {
            "name": "get_weather", "description": "Weather in a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                           "required": ["city"]}}}]
        r = client.chat.completions.create(
            model="openclaw", messages=[{"role": "user", "content": "weather in Oslo?"}],
            tools=tools)
        m = r.choices[0].message
        out.update(finish=r.choices[0].finish_reason, content=m.content,
                   calls=[{"id": c.id, "name": c.function.name,
                           "arguments": json.loads(c.function.arguments)}
                          for c in (m.tool_calls or [])])
    elif scenario == "models":
        out.update(ids=[m.id for m in client.models.list()])
    elif scenario == "bad-model":
        client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
    elif scenario == "plain":
        r = client.chat.completions.create(
            model=model, messages=[{"role": "user", "content": "hi"}])
        out.update(text=r.choices[0].message.content)
    elif scenario == "responses":
        r = client.responses.create(model=model, input="hi", instructions="Be terse.")
        out.update(text=r.output_text, status=r.status, id=r.id, model=r.model,
                   object=r.object, usage=r.usage.model_dump() if r.usage else None,
                   instructions=r.instructions)
    elif scenario == "responses-stream":
        stream = client.responses.create(model=model, input="hi", stream=True)
        types, deltas, final = [], [], None
        for event in stream:
            types.append(event.type)
            if event.type == "response.output_text.delta":
                deltas.append(event.delta)
            if event.type in ("response.completed", "response.failed", "response.incomplete"):
                final = event.response
        out.update(types=types, deltas=deltas, text="".join(deltas),
                   final_text=final.output_text if final else None,
                   status=final.status if final else None,
                   usage=final.usage.model_dump() if final and final.usage else None)
    elif scenario == "responses-followup":
        first = client.responses.create(model=model, input="first question")
        second = client.responses.create(model=model, input="second question",
                                          previous_response_id=first.id)
        out.update(first=first.id, second=second.id, text=second.output_text,
                   previous=second.previous_response_id)
    elif scenario == "responses-tools":
        tools = [{"type": "function", "name": "get_weather", "description": "Weather in a city",
                  "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                                 "required": ["city"]}}]
        r = client.responses.create(model=model, input="weather in Oslo?", tools=tools)
        out.update(status=r.status,
                   calls=[{"call_id": i.call_id, "name": i.name,
                           "arguments": json.loads(i.arguments)}
                          for i in r.output if i.type == "function_call"])
    else:
        raise SystemExit(f"unknown scenario {scenario}")
except openai.APIError as e:
    out.update(error=error(e))
print(json.dumps(out))
