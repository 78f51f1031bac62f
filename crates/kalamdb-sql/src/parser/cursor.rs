//! The parsing helpers every statement family shares: matching words on sqlparser's token
//! cursor, its "Expected: …, found: …" errors, values written bare or quoted, and settings
//! that may be given once.
//!
//! sqlparser has no `Keyword` for many of our words (`NAMESPACE`, `TTL`, `EMAIL`, …), so
//! they are matched as unquoted words, which keeps a quoted `"namespace"` an identifier.
//! Errors built here read exactly like sqlparser's own, so users see one style whichever
//! side refused the text.

use std::convert::Infallible;

use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::{Token, TokenWithSpan};

use crate::error::SqlError;

/// Helpers over sqlparser's `Parser` for words it has no `Keyword` for.
pub(crate) trait ParserExt {
    /// The next significant token is the unquoted word `word` (any case).
    fn peek_word(&self, word: &str) -> bool;
    /// The `n`-th next significant token (0 = next) is the unquoted word `word`.
    fn peek_nth_word(&self, n: usize, word: &str) -> bool;
    fn parse_word(&mut self, word: &str) -> bool;
    /// Consumes all of `words` or nothing.
    fn parse_words(&mut self, words: &[&str]) -> bool;
    fn expect_word(&mut self, word: &str) -> Result<(), ParserError>;
    /// The `n`-th next significant token ends the statement (`;` or end of input).
    fn next_is_end(&self, n: usize) -> bool;
    /// Only `;` may follow.
    fn expect_end(&mut self) -> Result<(), ParserError>;
}

pub(crate) fn is_word(token: &Token, word: &str) -> bool {
    matches!(token, Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(word))
}

impl ParserExt for Parser<'_> {
    fn peek_word(&self, word: &str) -> bool {
        is_word(&self.peek_token_ref().token, word)
    }

    fn peek_nth_word(&self, n: usize, word: &str) -> bool {
        is_word(&self.peek_nth_token_ref(n).token, word)
    }

    fn parse_word(&mut self, word: &str) -> bool {
        let matched = self.peek_word(word);
        if matched {
            self.advance_token();
        }
        matched
    }

    fn parse_words(&mut self, words: &[&str]) -> bool {
        let matched = words
            .iter()
            .enumerate()
            .all(|(i, w)| self.peek_nth_word(i, w));
        if matched {
            for _ in words {
                self.advance_token();
            }
        }
        matched
    }

    fn expect_word(&mut self, word: &str) -> Result<(), ParserError> {
        if self.parse_word(word) {
            Ok(())
        } else {
            self.expected_ref(word, self.peek_token_ref())
        }
    }

    fn next_is_end(&self, n: usize) -> bool {
        matches!(
            self.peek_nth_token_ref(n).token,
            Token::EOF | Token::SemiColon
        )
    }

    fn expect_end(&mut self) -> Result<(), ParserError> {
        while self.consume_token(&Token::SemiColon) {}
        if self.peek_token_ref().token == Token::EOF {
            Ok(())
        } else {
            self.expected_ref("end of statement", self.peek_token_ref())
        }
    }
}

/// sqlparser's "Expected: …, found: …" error, as ours.
pub(crate) fn expected(p: &Parser, what: &str, found: &TokenWithSpan) -> SqlError {
    match p.expected_ref::<Infallible>(what, found) {
        Err(e) => e.into(),
        Ok(never) => match never {},
    }
}

/// A value that may be written bare or quoted (`ROLE dba`, `TYPE 's3'`): a word as written
/// or a string's content; anything else is "Expected: `what`".
pub(crate) fn parse_word_or_string(p: &mut Parser, what: &str) -> Result<String, SqlError> {
    let token = p.next_token();
    match token.token {
        Token::Word(w) => Ok(w.value),
        Token::SingleQuotedString(s) => Ok(s),
        _ => Err(expected(p, what, &token)),
    }
}

/// Stores a setting that statements let the user list in any order (CREATE USER's
/// PASSWORD/ROLE/EMAIL, CREATE STORAGE's items, a table's options); giving one twice is
/// "Duplicate option `name`".
pub(crate) fn set_once<T>(slot: &mut Option<T>, value: T, name: &str) -> Result<(), SqlError> {
    if slot.replace(value).is_some() {
        return Err(SqlError::invalid(format!("Duplicate option {name}")));
    }
    Ok(())
}
