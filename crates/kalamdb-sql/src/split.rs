//! Cutting a request into statements, and mapping token positions back to the text.
//!
//! Splitting is done on sqlparser's tokens, not on characters, so a `;` inside a string,
//! a quoted identifier or a comment never cuts a statement, and every statement is later
//! parsed from exactly the text the user wrote (which EXECUTE AS USER keeps as `inner_sql`).
//! Only `;` outside parentheses separates statements, so `EXECUTE AS USER 'a' (x; y)` stays
//! one statement and is refused as such instead of being torn apart.

use sqlparser::tokenizer::{Location, Token, TokenWithSpan, Tokenizer, TokenizerError};

use crate::dialect::DIALECT;
use crate::error::SqlError;

pub(crate) fn tokenize(sql: &str) -> Result<Vec<TokenWithSpan>, TokenizerError> {
    Tokenizer::new(&DIALECT, sql).tokenize_with_location()
}

/// Whitespace and comments: tokens that never make a statement non-empty.
pub(crate) fn is_trivia(token: &Token) -> bool {
    matches!(token, Token::Whitespace(_) | Token::EOF)
}

/// Splits `sql` at top-level `;` into the statements' original text, trimmed of surrounding
/// whitespace and comments. Empty pieces are dropped; nothing left is [`SqlErrorKind::Empty`].
///
/// [`SqlErrorKind::Empty`]: crate::SqlErrorKind::Empty
pub fn split_statements(sql: &str) -> Result<Vec<String>, SqlError> {
    let tokens = tokenize(sql).map_err(|e| SqlError::batch(&e))?;
    Ok(split_tokens(sql, &tokens)?
        .into_iter()
        .map(|(text, _)| text)
        .collect())
}

/// The tokens of a request's one statement, as [`parse_statement_tokens`]
/// takes them.
///
/// [`parse_statement_tokens`]: crate::parse_statement_tokens
pub type StatementTokens = Vec<TokenWithSpan>;

/// [`split_statements`], and when the text is one statement starting at
/// its first byte, that statement's tokens: parsing it then needs no second
/// tokenization (positions in errors are the same, the statement being a
/// prefix of the text).
pub fn split_statements_with_tokens(
    sql: &str,
) -> Result<(Vec<String>, Option<StatementTokens>), SqlError> {
    let mut tokens = tokenize(sql).map_err(|e| SqlError::batch(&e))?;
    let pieces = split_tokens(sql, &tokens)?;
    // Only when the statement is exactly the text's prefix: trimming may cut
    // a token's tail (`@` followed by a tab is one word, a trimmed `@` is
    // another token), and then the text must be tokenized again.
    let single = match pieces.as_slice() {
        [(text, (0, end))] if !sql.contains("/*!") && sql.get(..*end) == Some(text.as_str()) => {
            Some(*end)
        }
        _ => None,
    };
    let statements: Vec<String> = pieces.into_iter().map(|(text, _)| text).collect();
    let Some(end) = single else {
        return Ok((statements, None));
    };
    // The tokens before the statement's end (its trailing `;`, whitespace
    // and comments are not part of it).
    let mut locator = Locator::new(sql);
    let keep = tokens
        .iter()
        .position(|t| locator.offset(t.span.start).is_none_or(|at| at >= end))
        .unwrap_or(tokens.len());
    tokens.truncate(keep);
    Ok((statements, Some(tokens)))
}

/// A statement's text (trimmed) and the byte range of its significant tokens.
type Piece = (String, (usize, usize));

/// The statements' texts and byte ranges.
fn split_tokens(sql: &str, tokens: &[TokenWithSpan]) -> Result<Vec<Piece>, SqlError> {
    let mut locator = Locator::new(sql);
    let mut statements = Vec::new();
    let mut depth: usize = 0;
    // Byte range of the current piece's significant tokens.
    let mut piece: Option<(usize, usize)> = None;
    let mut i = 0;

    while let Some(token) = tokens.get(i) {
        i += 1;
        let Some(start) = locator.offset(token.span.start) else {
            continue;
        };
        let end = token.span.end;
        // Only a hint's first token can start at `/*!`: the dialect expands every such comment
        // into the tokens of its content, so no comment token of that spelling survives. (Its
        // kind says nothing: a hint whose content starts with `/**/` begins with a comment.)
        if sql.get(start..).is_some_and(|s| s.starts_with("/*!")) {
            // A MySQL hint `/*! … */`: the tokenizer replaced the comment by the tokens of its
            // content, with positions inside the comment. They run contiguously up to a gap
            // before the comment's end, where the next real token starts. Keep the comment
            // whole and never cut inside it.
            let mut last = token;
            while let Some(next) = tokens
                .get(i)
                .filter(|next| next.span.start == last.span.end)
            {
                last = next;
                i += 1;
            }
            let hint_end = match tokens.get(i) {
                Some(next) => locator.offset(next.span.start),
                None => Some(sql.len()),
            };
            if let Some(hint_end) = hint_end {
                piece = Some((piece.map_or(start, |(from, _)| from), hint_end));
            }
            continue;
        }
        match &token.token {
            Token::SemiColon if depth == 0 => {
                if let Some((from, to)) = piece.take()
                    && let Some(text) = sql.get(from..to)
                {
                    statements.push((text.trim().to_string(), (from, to)));
                }
                continue;
            }
            Token::LParen => depth += 1,
            Token::RParen => depth = depth.saturating_sub(1),
            t if is_trivia(t) => continue,
            _ => {}
        }
        if let Some(to) = locator.offset(end) {
            piece = Some((piece.map_or(start, |(from, _)| from), to));
        }
    }
    if let Some((from, to)) = piece
        && let Some(text) = sql.get(from..to)
    {
        statements.push((text.trim().to_string(), (from, to)));
    }
    statements.retain(|(s, _)| !s.is_empty());
    if statements.is_empty() {
        return Err(SqlError::empty());
    }
    Ok(statements)
}

/// Maps tokenizer [`Location`]s (1-based line, 1-based column counted in chars, lines cut at
/// `\n` only, as the tokenizer counts) to byte offsets. Lookups are expected in increasing
/// order and then cost amortised O(1), so one long line of many statements stays linear.
pub(crate) struct Locator<'a> {
    sql: &'a str,
    line_starts: Vec<usize>,
    byte: usize,
    line: u64,
    column: u64,
}

impl<'a> Locator<'a> {
    pub(crate) fn new(sql: &'a str) -> Self {
        let line_starts = std::iter::once(0)
            .chain(sql.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Self {
            sql,
            line_starts,
            byte: 0,
            line: 1,
            column: 1,
        }
    }

    /// Byte offset of `loc`, clamped to the text; `None` for the empty location (line 0).
    pub(crate) fn offset(&mut self, loc: Location) -> Option<usize> {
        if loc.line == 0 {
            return None;
        }
        if (loc.line, loc.column) < (self.line, self.column) {
            // Only optimizer-hint tokens can point backwards; restart at their line.
            let index = usize::try_from(loc.line - 1).ok()?;
            self.byte = *self.line_starts.get(index)?;
            self.line = loc.line;
            self.column = 1;
        }
        while (self.line, self.column) < (loc.line, loc.column) {
            let Some(c) = self
                .sql
                .get(self.byte..)
                .and_then(|rest| rest.chars().next())
            else {
                break;
            };
            self.byte += c.len_utf8();
            if c == '\n' {
                self.line += 1;
                self.column = 1;
            } else {
                self.column += 1;
            }
        }
        Some(self.byte)
    }

    /// The trimmed text from `start` (inclusive) to `end` (exclusive); empty if unmappable.
    pub(crate) fn slice(&mut self, start: Location, end: Location) -> &'a str {
        let (Some(from), Some(to)) = (self.offset(start), self.offset(end)) else {
            return "";
        };
        self.sql.get(from..to).unwrap_or("").trim()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::error::SqlErrorKind;

    fn split(sql: &str) -> Vec<String> {
        split_statements(sql).unwrap()
    }

    #[test]
    fn splits_at_semicolons_and_trims() {
        assert_eq!(split("SELECT 1; SELECT 2"), ["SELECT 1", "SELECT 2"]);
        assert_eq!(
            split("  SELECT 1 ;\n\n  SELECT 2;  "),
            ["SELECT 1", "SELECT 2"]
        );
        assert_eq!(split("SELECT 1"), ["SELECT 1"]);
    }

    #[test]
    fn keeps_semicolons_inside_quotes_and_comments() {
        assert_eq!(
            split("INSERT INTO t VALUES ('a;b'); SELECT \"x;y\" FROM t"),
            ["INSERT INTO t VALUES ('a;b')", "SELECT \"x;y\" FROM t"]
        );
        assert_eq!(
            split("SELECT 1 -- x;\n; SELECT 2"),
            ["SELECT 1", "SELECT 2"]
        );
        assert_eq!(
            split("SELECT /* a;b */ 1; SELECT 'it''s;'"),
            ["SELECT /* a;b */ 1", "SELECT 'it''s;'"]
        );
    }

    #[test]
    fn drops_empty_and_comment_only_pieces() {
        assert_eq!(
            split(";;SELECT 1;; -- nothing\n; /* x */ ;SELECT 2"),
            ["SELECT 1", "SELECT 2"]
        );
        assert_eq!(split("-- lead\nSELECT 1 -- trail"), ["SELECT 1"]);
    }

    #[test]
    fn only_top_level_semicolons_split() {
        assert_eq!(
            split("EXECUTE AS USER 'a' (SELECT 1; SELECT 2); SELECT 3"),
            ["EXECUTE AS USER 'a' (SELECT 1; SELECT 2)", "SELECT 3"]
        );
    }

    #[test]
    fn multi_line_and_non_ascii_text_is_sliced_by_chars() {
        let sql = "SELECT 'héllo wörld';\n\tSELECT\n  'ü' AS x ; SELECT 'end'";
        assert_eq!(
            split(sql),
            ["SELECT 'héllo wörld'", "SELECT\n  'ü' AS x", "SELECT 'end'"]
        );
        assert_eq!(
            split("SELECT 'a'\r\n;\r\nSELECT 2"),
            ["SELECT 'a'", "SELECT 2"]
        );
    }

    #[test]
    fn empty_input_is_an_empty_error() {
        for sql in ["", "   ", ";;", "-- only a comment", "/* block */ ; -- x"] {
            let err = split_statements(sql).unwrap_err();
            assert_eq!(err.kind, SqlErrorKind::Empty, "{sql:?}");
            assert_eq!(err.message, "SQL is empty");
        }
    }

    #[test]
    fn unterminated_quote_or_comment_is_a_batch_error() {
        let err = split_statements("SELECT 'abc; SELECT 2").unwrap_err();
        assert_eq!(err.kind, SqlErrorKind::BatchParse);
        assert!(
            err.message.starts_with("Unterminated string literal"),
            "{}",
            err.message
        );
        let err = split_statements("SELECT 1; /* never closed").unwrap_err();
        assert_eq!(err.kind, SqlErrorKind::BatchParse);
        assert!(
            err.message
                .contains("Unexpected EOF while in a multi-line comment"),
            "{}",
            err.message
        );
    }

    #[test]
    fn optimizer_hint_comments_stay_whole() {
        assert_eq!(
            split("/*! SELECT 1; */ SELECT 2; SELECT 3"),
            ["/*! SELECT 1; */ SELECT 2", "SELECT 3"]
        );
        assert_eq!(
            split("SELECT 1 /*!40000 ; */; SELECT 2"),
            ["SELECT 1 /*!40000 ; */", "SELECT 2"]
        );
        assert_eq!(split("SELECT 1 /*!x*/"), ["SELECT 1 /*!x*/"]);
    }

    /// Found by fuzzing (`fuzz/regressions/sql_front_end/`): when a hint's content started
    /// with a comment, its tokens (positioned inside the hint) were taken for real text, and
    /// the statement was cut short at the `/*` of that inner comment.
    #[test]
    fn a_hint_whose_content_starts_with_a_comment_stays_whole() {
        assert_eq!(split("/*!4/**/:*/"), ["/*!4/**/:*/"]);
        assert_eq!(
            split("/*!4/**/ SELECT 1 */; SELECT 2"),
            ["/*!4/**/ SELECT 1 */", "SELECT 2"]
        );
        assert_eq!(
            split("SELECT 1 /*!/* x */ ; */; SELECT 2"),
            ["SELECT 1 /*!/* x */ ; */", "SELECT 2"]
        );
    }

    #[test]
    fn many_statements_on_one_line_split_in_linear_time() {
        let sql = "INSERT INTO t VALUES (1, 'héllo');".repeat(20_000);
        let pieces = split(&sql);
        assert_eq!(pieces.len(), 20_000);
        assert!(
            pieces
                .iter()
                .all(|p| p == "INSERT INTO t VALUES (1, 'héllo')")
        );
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod token_reuse_tests {
    use super::*;
    use crate::{parse_statement, parse_statement_tokens};

    #[test]
    fn one_statement_at_the_start_hands_its_tokens_over() {
        for (sql, reused) in [
            ("INSERT INTO a.t (id) VALUES (1), (2);", true),
            ("SELECT id FROM a.t WHERE id = $1", true),
            ("SELECT 1 ; -- done", true),
            ("  SELECT 1", false),
            ("/* c */ SELECT 1", false),
            ("SELECT 1; SELECT 2", false),
            ("/*! SELECT 1 */", false),
            // `@` and a tab are one word; the trimmed statement ends in a
            // lone `@`, another token (found by the fuzzer).
            ("SELECT @\t", false),
            ("SELECT @\t;", false),
        ] {
            let (statements, tokens) = split_statements_with_tokens(sql).unwrap();
            assert_eq!(statements, split_statements(sql).unwrap(), "{sql}");
            assert_eq!(tokens.is_some(), reused, "{sql}");
        }
    }

    /// Parsing from the splitter's tokens answers exactly as parsing the
    /// statement's text again: statements, and errors with their positions.
    #[test]
    fn parsing_reused_tokens_equals_parsing_the_text() {
        for sql in [
            "INSERT INTO a.t (id, b) VALUES (1, 'x;y'), (2, NULL);",
            "SELECT * FROM a.t WHERE id IN (1, 2)",
            "UPDATE a.t SET b = 'z' WHERE id = 3",
            "DELETE FROM a.t WHERE id = 4;",
            "EXECUTE AS USER 'alice' (SELECT * FROM a.t WHERE id = 1)",
            "CREATE NAMESPACE app",
            "SUBSCRIBE TO a.t WHERE id > 1",
            "SELECT FROM WHERE",
            "INSERT INTO a.t VALUES (1,",
            "UPDATE a.t SET WHERE id = 1",
            "SELECT CURRENT_USER()",
            "ALTER TABLE a.t ALTER COLUMN b SET DEFAULT CURRENT_USER()",
            "ALTER TABLE a.t ADD COLUMN b TEXT DEFAULT CURRENT_USER();",
            "ALTER TABLE a.t OWNER TO alice",
        ] {
            let (statements, tokens) = split_statements_with_tokens(sql).unwrap();
            let text = statements.first().unwrap();
            let reused = parse_statement_tokens(text, tokens.unwrap());
            let again = parse_statement(text);
            assert_eq!(format!("{reused:?}"), format!("{again:?}"), "{sql}");
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod execute_as_parts_tests {
    use super::*;
    use crate::{KalamStatement, execute_as_parts, parse_statement};

    /// The parts found without parsing the inner statement are exactly the
    /// full parse's, and malformed texts give none.
    #[test]
    fn parts_are_the_full_parse_s() {
        for sql in [
            "EXECUTE AS USER 'alice' (SELECT * FROM a.t WHERE id = $1)",
            "EXECUTE AS USER alice (INSERT INTO a.t (id) VALUES (1, (2)));",
            "execute as user 'Bob' ( UPDATE a.t SET x = 'a)' WHERE id = 2 )",
            "EXECUTE AS USER 'it''s' (SELECT 1)",
            "EXECUTE AS USER \"carol\" (DELETE FROM a.t WHERE id = 1)",
        ] {
            let (_, tokens) = split_statements_with_tokens(sql).unwrap();
            let parts = execute_as_parts(sql.trim_end_matches(';'), &tokens.unwrap());
            match parse_statement(sql) {
                Ok(KalamStatement::ExecuteAsUser {
                    user, inner_sql, ..
                }) => assert_eq!(parts, Some((user, inner_sql)), "{sql}"),
                other => assert!(parts.is_none(), "{sql}: {other:?} but {parts:?}"),
            }
        }
        for sql in [
            "EXECUTE AS USER 'alice' (SELECT 1) trailing",
            "EXECUTE AS USER 'alice' (SELECT 1; SELECT 2)",
            "EXECUTE AS USER 'alice' SELECT 1",
            "EXECUTE AS USER '' (SELECT 1)",
            "SELECT 1",
        ] {
            let (_, tokens) = split_statements_with_tokens(sql).unwrap();
            assert_eq!(execute_as_parts(sql, &tokens.unwrap()), None, "{sql}");
        }
    }
}
