//! Splits SQL text into statements on `;`, skipping semicolons inside
//! quotes and comments. The CLI needs this itself: a script stops at its
//! first failing statement (with the earlier ones applied and printed),
//! and the shell must know when a multi-line statement is complete.

/// Statements ended by `;`, each without its `;` and trimmed, plus the
/// unterminated text after the last one (trimmed; empty when none).
/// Statements holding only comments are dropped.
pub fn split(text: &str) -> (Vec<String>, String) {
    let mut out = Vec::new();
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '\'' | '"' => {
                // A doubled quote inside a literal is an escaped quote: the
                // scanner just leaves and re-enters the literal.
                for (_, d) in chars.by_ref() {
                    if d == c {
                        break;
                    }
                }
            }
            '-' if chars.peek().map(|&(_, d)| d) == Some('-') => {
                for (_, d) in chars.by_ref() {
                    if d == '\n' {
                        break;
                    }
                }
            }
            '/' if chars.peek().map(|&(_, d)| d) == Some('*') => {
                chars.next();
                let mut prev = ' ';
                for (_, d) in chars.by_ref() {
                    if prev == '*' && d == '/' {
                        break;
                    }
                    prev = d;
                }
            }
            ';' => {
                push(&mut out, text.get(start..i).unwrap_or(""));
                start = i + 1;
            }
            _ => {}
        }
    }
    let rest = text.get(start..).unwrap_or("").trim();
    let rest = if only_comments(rest) { "" } else { rest };
    (out, rest.to_string())
}

fn push(out: &mut Vec<String>, stmt: &str) {
    let stmt = stmt.trim();
    if !only_comments(stmt) {
        out.push(stmt.to_string());
    }
}

/// True when nothing but whitespace and comments is left.
fn only_comments(s: &str) -> bool {
    let mut rest = s.trim_start();
    loop {
        if rest.is_empty() {
            return true;
        }
        if let Some(r) = rest.strip_prefix("--") {
            rest = r
                .split_once('\n')
                .map(|(_, r)| r)
                .unwrap_or("")
                .trim_start();
        } else if let Some(r) = rest.strip_prefix("/*") {
            rest = r
                .split_once("*/")
                .map(|(_, r)| r)
                .unwrap_or("")
                .trim_start();
        } else {
            return false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_on_semicolons_outside_quotes_and_comments() {
        let (stmts, rest) = split(
            "SELECT 'a;b'; -- c;d\nINSERT INTO t VALUES ('it''s;');\n/* x; */ SELECT \"a;\" ; SELECT 1",
        );
        assert_eq!(
            stmts,
            vec![
                "SELECT 'a;b'",
                "-- c;d\nINSERT INTO t VALUES ('it''s;')",
                "/* x; */ SELECT \"a;\""
            ]
        );
        assert_eq!(rest, "SELECT 1");
    }

    #[test]
    fn comment_only_pieces_are_dropped() {
        let (stmts, rest) = split("-- just a comment\n;;  /* c */ ");
        assert!(stmts.is_empty());
        assert_eq!(rest, "");
        let (stmts, rest) = split("SELECT 1;\n-- trailing");
        assert_eq!(stmts, vec!["SELECT 1"]);
        assert_eq!(rest, "");
    }

    #[test]
    fn an_open_quote_keeps_the_statement_unfinished() {
        let (stmts, rest) = split("INSERT INTO t VALUES ('a;");
        assert!(stmts.is_empty());
        assert_eq!(rest, "INSERT INTO t VALUES ('a;");
    }
}
