//! The Task Scheduler XML: rendered from the repo template `windows/openclaw-gateway-task.xml`,
//! encoded UTF-16 LE with a BOM for `schtasks /Create /XML`, and parsed back from
//! `schtasks /Query /TN <name> /XML` (never from localised `/V /FO LIST` text).
//!
//! quick-xml (the XML crate `plist` already depends on, so no second parser enters the build)
//! streams the template: every element whose whole text is an `@NAME@` placeholder gets the value,
//! escaped by quick-xml's writer; comments are dropped; everything else is copied unchanged.

use std::collections::BTreeMap;

use quick_xml::Reader;
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesText, Event};

use crate::service::ServiceError;
use crate::service::templates::WINDOWS_TASK_XML;

/// The values of one task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskValues {
    /// `RegistrationInfo/Description`.
    pub description: String,
    /// `DOMAIN\user` of the logon trigger and the principal.
    pub user_id: String,
    /// `Actions/Exec/Command`: the gateway executable.
    pub command: String,
    /// `Actions/Exec/Arguments`: one command line (see [`quote_windows_arg`]).
    pub arguments: String,
    /// `Actions/Exec/WorkingDirectory`.
    pub working_directory: String,
}

impl TaskValues {
    fn lookup(&self, placeholder: &str) -> Option<(&'static str, &str)> {
        Some(match placeholder {
            "@DESCRIPTION@" => ("Description", self.description.as_str()),
            "@USER_ID@" => ("UserId", self.user_id.as_str()),
            "@COMMAND@" => ("Command", self.command.as_str()),
            "@ARGUMENTS@" => ("Arguments", self.arguments.as_str()),
            "@WORKING_DIRECTORY@" => ("WorkingDirectory", self.working_directory.as_str()),
            _ => return None,
        })
    }
}

/// The placeholders the renderer fills.
pub const PLACEHOLDERS: [&str; 5] = [
    "@DESCRIPTION@",
    "@USER_ID@",
    "@COMMAND@",
    "@ARGUMENTS@",
    "@WORKING_DIRECTORY@",
];

/// Quotes one argument for a Windows command line the way `CommandLineToArgvW` and the MSVC
/// runtime split it: quoted when empty or holding whitespace or `"`, with backslashes doubled
/// before a quote.
pub fn quote_windows_arg(arg: &str) -> String {
    if !arg.is_empty() && !arg.contains([' ', '\t', '\n', '\u{b}', '"']) {
        return arg.to_owned();
    }
    let mut out = String::from("\"");
    let mut backslashes = 0usize;
    for c in arg.chars() {
        match c {
            '\\' => backslashes += 1,
            '"' => {
                out.push_str(&"\\".repeat(backslashes * 2 + 1));
                out.push('"');
                backslashes = 0;
            }
            _ => {
                out.push_str(&"\\".repeat(backslashes));
                out.push(c);
                backslashes = 0;
            }
        }
    }
    out.push_str(&"\\".repeat(backslashes * 2));
    out.push('"');
    out
}

/// Joins `args` into one Windows command line.
pub fn windows_command_line(args: &[String]) -> String {
    args.iter()
        .map(|a| quote_windows_arg(a))
        .collect::<Vec<_>>()
        .join(" ")
}

fn template_error(message: impl Into<String>) -> ServiceError {
    ServiceError::new(
        "template-invalid",
        format!("{WINDOWS_TASK_XML}: {}", message.into()),
    )
}

/// Renders the task XML text (with its `encoding="UTF-16"` declaration); encode it with
/// [`encode_utf16_with_bom`] before writing.
pub fn render_task_xml(values: &TaskValues) -> Result<String, ServiceError> {
    render_task_xml_from(WINDOWS_TASK_XML, values)
}

/// [`render_task_xml`] with an explicit template text.
pub fn render_task_xml_from(template: &str, values: &TaskValues) -> Result<String, ServiceError> {
    for (field, value) in [
        ("Description", &values.description),
        ("UserId", &values.user_id),
        ("Command", &values.command),
        ("Arguments", &values.arguments),
        ("WorkingDirectory", &values.working_directory),
    ] {
        if value.chars().any(char::is_control) {
            return Err(ServiceError::new(
                "invalid-value",
                format!(
                    "{field} cannot contain control characters (CR, LF, NUL…) in a task definition"
                ),
            ));
        }
    }
    let mut reader = Reader::from_str(template);
    reader.config_mut().check_end_names = true;
    let mut writer = Writer::new(Vec::new());
    let io = |e: std::io::Error| {
        ServiceError::new("render-failed", format!("cannot write the task XML: {e}"))
    };
    writer
        .write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-16"), None)))
        .map_err(io)?;
    writer
        .write_event(Event::Text(BytesText::from_escaped("\n")))
        .map_err(io)?;
    let mut used: Vec<&'static str> = Vec::new();
    let mut after_comment = true; // drop the whitespace that followed a dropped comment
    let mut stack: Vec<String> = Vec::new();
    loop {
        let event = reader
            .read_event()
            .map_err(|e| template_error(format!("not well-formed XML: {e}")))?;
        match event {
            Event::Eof => break,
            Event::Comment(_) | Event::Decl(_) => {
                after_comment = true;
                continue;
            }
            Event::Text(text) => {
                let raw = text
                    .decode()
                    .map_err(|e| template_error(format!("text is not UTF-8: {e}")))?;
                if after_comment && raw.trim().is_empty() {
                    after_comment = false;
                    continue;
                }
                after_comment = false;
                let trimmed = raw.trim();
                if trimmed.starts_with('@') && trimmed.ends_with('@') && trimmed.len() > 2 {
                    let (element, value) = values.lookup(trimmed).ok_or_else(|| {
                        template_error(format!("placeholder {trimmed} is not filled by this build"))
                    })?;
                    if stack.last().map(String::as_str) != Some(element) {
                        return Err(template_error(format!(
                            "{trimmed} belongs in <{element}>, not <{}>",
                            stack.last().map(String::as_str).unwrap_or("")
                        )));
                    }
                    if let Some(p) = PLACEHOLDERS.iter().find(|p| **p == trimmed) {
                        if !used.contains(p) {
                            used.push(p);
                        }
                    }
                    writer
                        .write_event(Event::Text(BytesText::new(value)))
                        .map_err(io)?;
                    continue;
                }
                writer.write_event(Event::Text(text)).map_err(io)?;
                continue;
            }
            Event::Start(ref start) => {
                stack.push(String::from_utf8_lossy(start.local_name().as_ref()).into_owned());
            }
            Event::End(_) => {
                stack.pop();
            }
            _ => {}
        }
        after_comment = false;
        writer.write_event(event).map_err(io)?;
    }
    if let Some(missing) = PLACEHOLDERS.iter().find(|p| !used.contains(p)) {
        return Err(template_error(format!("placeholder {missing} is missing")));
    }
    String::from_utf8(writer.into_inner())
        .map_err(|e| ServiceError::new("render-failed", format!("task XML is not UTF-8: {e}")))
}

/// UTF-16 LE with a byte-order mark, as `schtasks /Create /XML` reads it.
pub fn encode_utf16_with_bom(text: &str) -> Vec<u8> {
    let mut out = vec![0xFF, 0xFE];
    for unit in text.encode_utf16() {
        out.extend_from_slice(&unit.to_le_bytes());
    }
    out
}

/// Decodes a task file written by [`encode_utf16_with_bom`]; anything without the UTF-16 LE BOM
/// or with an odd length is an error.
pub fn decode_utf16_with_bom(bytes: &[u8]) -> Result<String, ServiceError> {
    let bad = |what: &str| ServiceError::new("invalid-task-file", format!("task XML {what}"));
    let body = bytes
        .strip_prefix(&[0xFF, 0xFE])
        .ok_or_else(|| bad("does not start with the UTF-16 LE byte-order mark"))?;
    if body.len() % 2 != 0 {
        return Err(bad("has an odd number of bytes"));
    }
    let units: Vec<u16> = body
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    String::from_utf16(&units).map_err(|_| bad("is not valid UTF-16"))
}

/// Cleans what the runner captured from `schtasks /Query /XML`: a BOM, and the NULs of UTF-16
/// output read as bytes, are dropped.
pub fn normalise_query_output(text: &str) -> String {
    text.chars()
        .filter(|c| !matches!(c, '\u{feff}' | '\u{fffd}' | '\0'))
        .collect()
}

/// A task definition read back from XML: the text of every element by its path below `<Task>`
/// (`Settings/ExecutionTimeLimit`, `Actions/Exec/Command`, …; namespace prefixes dropped), and
/// the number of actions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskDefinition {
    /// Element text by path (the first occurrence wins).
    pub elements: BTreeMap<String, String>,
    /// How many `<Exec>` actions there are.
    pub exec_actions: usize,
    /// Attributes by `<path>@<name>` (`Principals/Principal@id`, `Actions@Context`).
    pub attributes: BTreeMap<String, String>,
}

impl TaskDefinition {
    /// The text at `path`.
    pub fn get(&self, path: &str) -> Option<&str> {
        self.elements.get(path).map(String::as_str)
    }

    /// `Settings/Enabled` (true when absent, the Task Scheduler default).
    pub fn enabled(&self) -> bool {
        self.get("Settings/Enabled") != Some("false")
    }

    /// `Actions/Exec/Command`.
    pub fn command(&self) -> Option<&str> {
        self.get("Actions/Exec/Command")
    }

    /// `Actions/Exec/Arguments`.
    pub fn arguments(&self) -> Option<&str> {
        self.get("Actions/Exec/Arguments")
    }
}

/// Parses task XML text (as rendered, or as `schtasks /Query /XML` prints it).
pub fn parse_task_xml(text: &str) -> Result<TaskDefinition, ServiceError> {
    let bad =
        |e: String| ServiceError::new("invalid-task-xml", format!("cannot parse task XML: {e}"));
    let mut reader = Reader::from_str(text);
    reader.config_mut().check_end_names = true;
    let mut def = TaskDefinition::default();
    let mut stack: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut saw_task = false;
    let path_of = |stack: &[String]| stack.iter().skip(1).cloned().collect::<Vec<_>>().join("/");
    loop {
        match reader.read_event().map_err(|e| bad(e.to_string()))? {
            Event::Eof => break,
            Event::Start(start) => {
                let name = String::from_utf8_lossy(start.local_name().as_ref()).into_owned();
                if stack.is_empty() {
                    if name != "Task" {
                        return Err(bad(format!("the root element is <{name}>, not <Task>")));
                    }
                    saw_task = true;
                }
                if name == "Exec" {
                    def.exec_actions += 1;
                }
                stack.push(name);
                let path = path_of(&stack);
                for attr in start.attributes().flatten() {
                    let key = String::from_utf8_lossy(attr.key.local_name().as_ref()).into_owned();
                    if let Ok(value) = attr.unescape_value() {
                        def.attributes
                            .entry(format!("{path}@{key}"))
                            .or_insert(value.into_owned());
                    }
                }
                current.clear();
            }
            Event::Empty(start) => {
                let name = String::from_utf8_lossy(start.local_name().as_ref()).into_owned();
                stack.push(name);
                def.elements.entry(path_of(&stack)).or_default();
                stack.pop();
            }
            Event::Text(t) => {
                current.push_str(&t.decode().map_err(|e| bad(e.to_string()))?);
            }
            Event::GeneralRef(r) => {
                let name = r.decode().map_err(|e| bad(e.to_string()))?;
                if let Some(c) = r.resolve_char_ref().map_err(|e| bad(e.to_string()))? {
                    current.push(c);
                } else if let Some(s) = quick_xml::escape::resolve_predefined_entity(&name) {
                    current.push_str(s);
                } else {
                    return Err(bad(format!("unknown entity &{name};")));
                }
            }
            Event::End(_) => {
                let path = path_of(&stack);
                if !path.is_empty() {
                    def.elements
                        .entry(path)
                        .or_insert_with(|| current.trim().to_owned());
                }
                current.clear();
                stack.pop();
            }
            _ => {}
        }
    }
    if !saw_task {
        return Err(bad("no <Task> element".into()));
    }
    Ok(def)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values() -> TaskValues {
        TaskValues {
            description: "OpenClaw Gateway <&> \"q\" 'a'".into(),
            user_id: "DESKTOP-1\\alice".into(),
            command: "C:\\Program Files\\OpenClaw\\openclaw.exe".into(),
            arguments: windows_command_line(&["gateway".into(), "--port".into(), "18789".into()]),
            working_directory: "C:\\Users\\alice\\.openclaw".into(),
        }
    }

    #[test]
    fn windows_arguments_are_quoted_like_commandlinetoargvw_expects() {
        for (arg, want) in [
            ("gateway", "gateway"),
            ("", "\"\""),
            ("a b", "\"a b\""),
            ("C:\\dir\\", "C:\\dir\\"),
            ("C:\\my dir\\", "\"C:\\my dir\\\\\""),
            ("say \"hi\"", "\"say \\\"hi\\\"\""),
            ("a\\\"b", "\"a\\\\\\\"b\""),
        ] {
            assert_eq!(quote_windows_arg(arg), want, "{arg:?}");
        }
    }

    #[test]
    fn values_are_escaped_and_round_trip() {
        let text = render_task_xml(&values()).unwrap();
        assert!(
            text.starts_with("<?xml version=\"1.0\" encoding=\"UTF-16\"?>\n<Task "),
            "{text}"
        );
        assert!(
            text.contains("OpenClaw Gateway &lt;&amp;&gt; &quot;q&quot; &apos;a&apos;"),
            "{text}"
        );
        assert!(!text.contains("<!--") && !text.contains('@'), "{text}");
        let def = parse_task_xml(&text).unwrap();
        assert_eq!(
            def.get("RegistrationInfo/Description"),
            Some(values().description.as_str())
        );
        assert_eq!(
            def.command(),
            Some("C:\\Program Files\\OpenClaw\\openclaw.exe")
        );
        assert_eq!(
            def.get("Triggers/LogonTrigger/UserId"),
            Some("DESKTOP-1\\alice")
        );
        assert_eq!(
            def.get("Principals/Principal/UserId"),
            Some("DESKTOP-1\\alice")
        );
        assert_eq!(
            def.attributes
                .get("Principals/Principal@id")
                .map(String::as_str),
            Some("Author")
        );
    }

    #[test]
    fn utf16_with_bom_round_trips_and_is_checked() {
        let text = "<Task>é ✓ 𝄞</Task>";
        let bytes = encode_utf16_with_bom(text);
        assert_eq!(&bytes[..4], &[0xFF, 0xFE, b'<', 0]);
        assert_eq!(decode_utf16_with_bom(&bytes).unwrap(), text);
        assert!(decode_utf16_with_bom(text.as_bytes()).is_err());
        assert!(decode_utf16_with_bom(&bytes[..bytes.len() - 1]).is_err());
    }

    #[test]
    fn query_output_captured_as_bytes_is_cleaned() {
        let utf16ish: String = "\u{fffd}\u{fffd}<Task/>"
            .chars()
            .flat_map(|c| [c, '\0'])
            .collect();
        assert_eq!(normalise_query_output(&utf16ish), "<Task/>");
        assert_eq!(normalise_query_output("\u{feff}<Task/>"), "<Task/>");
    }

    #[test]
    fn a_template_that_disagrees_with_the_renderer_is_an_error() {
        let template = WINDOWS_TASK_XML;
        let e = render_task_xml_from(&template.replace("@COMMAND@", "@PROGRAM@"), &values())
            .unwrap_err();
        assert!(e.message.contains("@PROGRAM@"), "{}", e.message);
        let e = render_task_xml_from(
            &template.replace("<Arguments>@ARGUMENTS@</Arguments>", ""),
            &values(),
        )
        .unwrap_err();
        assert!(
            e.message.contains("@ARGUMENTS@ is missing"),
            "{}",
            e.message
        );
        let e = render_task_xml_from(
            &template.replace("<Description>@DESCRIPTION@", "<Description>@COMMAND@"),
            &values(),
        )
        .unwrap_err();
        assert!(e.message.contains("belongs in <Command>"), "{}", e.message);
        let mut v = values();
        v.description = "two\nlines".into();
        assert_eq!(render_task_xml(&v).unwrap_err().kind, "invalid-value");
    }

    #[test]
    fn parsing_rejects_what_is_not_a_task() {
        assert!(parse_task_xml("<Other/>").is_err());
        assert!(parse_task_xml("<Task><A></B></Task>").is_err());
        let def = parse_task_xml("<Task><X>a &amp; b &#233;</X><Y/></Task>").unwrap();
        assert_eq!(def.get("X"), Some("a & b é"));
        assert_eq!(def.get("Y"), Some(""));
    }
}
