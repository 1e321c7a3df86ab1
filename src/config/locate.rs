//! Finds where a key path's value stands in JSON5 text, to give type errors a line and column.
//!
//! The text has already parsed as JSON5, so this scanner only needs to walk it: strings (both
//! quotes, escapes), comments, identifiers and nesting. Duplicate keys resolve to the last one,
//! as the parser does.

/// One step of a key path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// An object key.
    Key(String),
    /// An array index.
    Index(usize),
}

/// A 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineColumn {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
}

/// The 1-based line and column of byte `offset` in `text`.
pub fn line_column_at(text: &str, offset: usize) -> LineColumn {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    LineColumn {
        line,
        column: before[line_start..].chars().count() + 1,
    }
}

/// Where the value at `path` starts in `text` (the deepest existing prefix of the path when the
/// rest is missing), or `None` when the text cannot be walked.
pub fn locate_value(text: &str, path: &[Segment]) -> Option<LineColumn> {
    let mut scanner = Scanner { text, pos: 0 };
    scanner.skip_trivia();
    let offset = scanner.find(path)?;
    Some(line_column_at(text, offset))
}

struct Scanner<'a> {
    text: &'a str,
    pos: usize,
}

impl Scanner<'_> {
    fn peek(&self) -> Option<char> {
        self.text[self.pos..].chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn skip_trivia(&mut self) {
        loop {
            let rest = &self.text[self.pos..];
            if rest.starts_with("//") {
                self.pos += rest.find('\n').unwrap_or(rest.len());
            } else if let Some(after) = rest.strip_prefix("/*") {
                self.pos += after.find("*/").map_or(rest.len(), |i| i + 4);
            } else if self
                .peek()
                .is_some_and(|c| c.is_whitespace() || c == '\u{feff}')
            {
                self.bump();
            } else {
                return;
            }
        }
    }

    /// Walks the value at the current position along `path`; returns the target's offset.
    fn find(&mut self, path: &[Segment]) -> Option<usize> {
        let start = self.pos;
        let Some((first, rest)) = path.split_first() else {
            return Some(start);
        };
        match (self.peek()?, first) {
            ('{', Segment::Key(wanted)) => {
                self.bump();
                let mut found = None;
                loop {
                    self.skip_trivia();
                    if self.peek()? == '}' {
                        break;
                    }
                    let key = self.key()?;
                    self.skip_trivia();
                    if self.bump()? != ':' {
                        return None;
                    }
                    self.skip_trivia();
                    if &key == wanted {
                        found = Some(self.pos);
                    }
                    self.skip_value()?;
                    self.skip_trivia();
                    if self.peek() == Some(',') {
                        self.bump();
                    }
                }
                match found {
                    Some(offset) => {
                        self.pos = offset;
                        self.find(rest)
                    }
                    None => Some(start),
                }
            }
            ('[', Segment::Index(wanted)) => {
                self.bump();
                let mut index = 0;
                loop {
                    self.skip_trivia();
                    if self.peek()? == ']' {
                        return Some(start);
                    }
                    if index == *wanted {
                        return self.find(rest);
                    }
                    self.skip_value()?;
                    self.skip_trivia();
                    if self.peek() == Some(',') {
                        self.bump();
                    }
                    index += 1;
                }
            }
            _ => Some(start),
        }
    }

    fn key(&mut self) -> Option<String> {
        match self.peek()? {
            quote @ ('"' | '\'') => self.string(quote),
            _ => {
                let begin = self.pos;
                while self
                    .peek()
                    .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$')
                {
                    self.bump();
                }
                (self.pos > begin).then(|| self.text[begin..self.pos].to_owned())
            }
        }
    }

    fn string(&mut self, quote: char) -> Option<String> {
        self.bump();
        let mut out = String::new();
        loop {
            match self.bump()? {
                c if c == quote => return Some(out),
                '\\' => match self.bump()? {
                    'n' => out.push('\n'),
                    't' => out.push('\t'),
                    'r' => out.push('\r'),
                    '\n' => {}
                    other => out.push(other),
                },
                c => out.push(c),
            }
        }
    }

    fn skip_value(&mut self) -> Option<()> {
        match self.peek()? {
            quote @ ('"' | '\'') => {
                self.string(quote)?;
            }
            open @ ('{' | '[') => {
                let close = if open == '{' { '}' } else { ']' };
                self.bump();
                loop {
                    self.skip_trivia();
                    if self.peek()? == close {
                        self.bump();
                        break;
                    }
                    if open == '{' {
                        self.key()?;
                        self.skip_trivia();
                        if self.bump()? != ':' {
                            return None;
                        }
                        self.skip_trivia();
                    }
                    self.skip_value()?;
                    self.skip_trivia();
                    if self.peek() == Some(',') {
                        self.bump();
                    }
                }
            }
            _ => {
                let begin = self.pos;
                while self
                    .peek()
                    .is_some_and(|c| !c.is_whitespace() && !matches!(c, ',' | '}' | ']' | '/'))
                {
                    self.bump();
                }
                if self.pos == begin {
                    return None;
                }
            }
        }
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(k: &str) -> Segment {
        Segment::Key(k.to_owned())
    }

    #[test]
    fn finds_nested_values_across_comments_and_quoting_styles() {
        let text = "{\n  // c\n  gateway: {\n    'mode': 'local', /* x */\n    \"port\": \"abc\",\n  },\n}\n";
        let at = locate_value(text, &[key("gateway"), key("port")]).unwrap();
        assert_eq!(
            at,
            LineColumn {
                line: 5,
                column: 13
            }
        );
        let at = locate_value(text, &[key("gateway"), key("mode")]).unwrap();
        assert_eq!(
            at,
            LineColumn {
                line: 4,
                column: 13
            }
        );
    }

    #[test]
    fn finds_array_elements_and_the_last_duplicate_key() {
        let text = "{a: [1, {b: 2}, 3], a2: 1, a2: [true]}";
        let at = locate_value(text, &[key("a"), Segment::Index(1), key("b")]).unwrap();
        assert_eq!(at.column, 13);
        let at = locate_value(text, &[key("a2")]).unwrap();
        assert_eq!(at.column, 32);
    }

    #[test]
    fn a_missing_key_points_at_the_deepest_existing_object() {
        let text = "{\n  gateway: {}\n}";
        let at = locate_value(text, &[key("gateway"), key("port")]).unwrap();
        assert_eq!(
            at,
            LineColumn {
                line: 2,
                column: 12
            }
        );
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        assert_eq!(
            line_column_at("é\nxé!", 6),
            LineColumn { line: 2, column: 3 }
        );
    }
}
