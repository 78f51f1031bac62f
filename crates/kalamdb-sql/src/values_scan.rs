//! The rows of `INSERT … VALUES (…), (…)` read straight from the text
//! ([`scan_insert_rows`]), without sqlparser's tokenizer and parser: for a
//! batch of a thousand rows those were 80% of the server's time, building
//! tokens with positions and a tree of expressions for values that are
//! plain literals.
//!
//! Only a narrow text is taken, one whose reading by sqlparser (with our
//! dialect: no backslash escapes, no numeric underscores, no string
//! concatenation) is known: after the `VALUES` keyword, rows of literals
//! — `NULL`, `TRUE`, `FALSE`, integers and decimals (`12`, `-3`, `4.50`),
//! single-quoted strings (`''` for a quote), `$n` — separated by commas and
//! ASCII whitespace, then an optional `;`. Anything else (a comment, an
//! expression, a cast, `E'…'`, a clause after the rows) answers `None`,
//! and the text takes the usual way. The part before `VALUES` is not read
//! here: the caller parses it, with the first row, through the parser
//! ([`InsertRows::probe`]) and checks the first row reads alike both ways.
//!
//! Must not: accept a text the parser would read differently.

use std::borrow::Cow;

use sqlparser::ast::{Expr, UnaryOperator, Value};

/// One value of a scanned row, as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowCell<'a> {
    Null,
    Bool(bool),
    /// Digits with at most one `.` between digits; `negative` for a
    /// leading `-` (the parser's unary minus on a number).
    Number {
        digits: &'a str,
        negative: bool,
    },
    /// A single-quoted string's content, `''` read as `'`.
    Text(Cow<'a, str>),
    /// `$n` as written (`$` and digits).
    Param(&'a str),
}

impl RowCell<'_> {
    /// The expression the parser makes of this cell.
    pub fn to_expr(&self) -> Expr {
        match self {
            RowCell::Null => Expr::value(Value::Null),
            RowCell::Bool(b) => Expr::value(Value::Boolean(*b)),
            RowCell::Number { digits, negative } => {
                let n = Expr::value(Value::Number((*digits).to_string(), false));
                if *negative {
                    Expr::UnaryOp {
                        op: UnaryOperator::Minus,
                        expr: Box::new(n),
                    }
                } else {
                    n
                }
            }
            RowCell::Text(s) => Expr::value(Value::SingleQuotedString(s.to_string())),
            RowCell::Param(p) => Expr::value(Value::Placeholder((*p).to_string())),
        }
    }
}

/// A scanned `INSERT … VALUES` text.
#[derive(Debug)]
pub struct InsertRows<'a> {
    /// The statement as the splitter gives it: trimmed, without its `;`.
    pub statement: &'a str,
    /// Everything before the `VALUES` keyword (`INSERT INTO t (a, b) `).
    pub head: &'a str,
    /// The first row as written, `(` to `)`.
    pub first_row: &'a str,
    pub rows: Vec<Vec<RowCell<'a>>>,
}

impl InsertRows<'_> {
    /// The statement with its first row only: what the parser reads to
    /// check everything but the other rows.
    pub fn probe(&self) -> String {
        format!("{}VALUES {}", self.head, self.first_row)
    }
}

/// The rows of `sql` if it is one `INSERT … VALUES` of literal rows as
/// described in the module docs; `None` otherwise.
pub fn scan_insert_rows(sql: &str) -> Option<InsertRows<'_>> {
    let statement = sql.trim_matches(is_space);
    let statement = match statement.strip_suffix(';') {
        Some(s) => s.trim_end_matches(is_space),
        None => statement,
    };
    let word = statement.get(..6)?;
    if !word.eq_ignore_ascii_case("INSERT")
        || statement
            .as_bytes()
            .get(6)
            .copied()
            .is_some_and(is_word_byte)
    {
        return None;
    }
    let values_at = values_keyword(statement)?;
    let head = statement.get(..values_at)?;
    let mut s = Scanner {
        text: statement,
        at: values_at + "VALUES".len(),
    };
    let mut rows = Vec::new();
    let mut first_row = "";
    loop {
        s.skip_space();
        let start = s.at;
        let row = s.row()?;
        if rows.is_empty() {
            first_row = statement.get(start..s.at)?;
        }
        rows.push(row);
        s.skip_space();
        match s.next() {
            Some(b',') => continue,
            None => break,
            Some(_) => return None,
        }
    }
    Some(InsertRows {
        statement,
        head,
        first_row,
        rows,
    })
}

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Where the `VALUES` keyword starts, if the text before it holds only
/// characters a plain `INSERT INTO ns.t (a, b)` has (no quotes or comments,
/// whose content could hide the word) with its parentheses closed (an open
/// one would make the splitter keep a `;` after the rows).
fn values_keyword(statement: &str) -> Option<usize> {
    let bytes = statement.as_bytes();
    let mut at = 0;
    let mut depth = 0usize;
    while at < bytes.len() {
        let b = *bytes.get(at)?;
        if is_word_byte(b) {
            let start = at;
            while bytes.get(at).copied().is_some_and(is_word_byte) {
                at += 1;
            }
            if statement.get(start..at)?.eq_ignore_ascii_case("VALUES") {
                return (depth == 0).then_some(start);
            }
            continue;
        }
        match b {
            b'(' => depth += 1,
            b')' => depth = depth.checked_sub(1)?,
            b' ' | b'\t' | b'\n' | b'\r' | b'.' | b',' => {}
            _ => return None,
        }
        at += 1;
    }
    None
}

struct Scanner<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Scanner<'a> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.at).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.at += 1;
        Some(b)
    }

    fn skip_space(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    /// `(` cell (`,` cell)* `)`.
    fn row(&mut self) -> Option<Vec<RowCell<'a>>> {
        if self.next()? != b'(' {
            return None;
        }
        let mut cells = Vec::new();
        loop {
            self.skip_space();
            cells.push(self.cell()?);
            self.skip_space();
            match self.next()? {
                b',' => continue,
                b')' => return Some(cells),
                _ => return None,
            }
        }
    }

    fn cell(&mut self) -> Option<RowCell<'a>> {
        let cell = match self.peek()? {
            b'\'' => self.string()?,
            b'$' => {
                let start = self.at;
                self.at += 1;
                self.digits()?;
                RowCell::Param(self.text.get(start..self.at)?)
            }
            b'-' => {
                self.at += 1;
                RowCell::Number {
                    digits: self.number()?,
                    negative: true,
                }
            }
            b'0'..=b'9' => RowCell::Number {
                digits: self.number()?,
                negative: false,
            },
            _ => {
                let start = self.at;
                while self.peek().is_some_and(is_word_byte) {
                    self.at += 1;
                }
                let word = self.text.get(start..self.at)?;
                if word.eq_ignore_ascii_case("NULL") {
                    RowCell::Null
                } else if word.eq_ignore_ascii_case("TRUE") {
                    RowCell::Bool(true)
                } else if word.eq_ignore_ascii_case("FALSE") {
                    RowCell::Bool(false)
                } else {
                    return None;
                }
            }
        };
        // A cell ends where the row goes on: anything else glued to it
        // (`1e5`, `'a''`, `$1x`, `NULL::int`) is not ours.
        matches!(
            self.peek(),
            Some(b' ' | b'\t' | b'\n' | b'\r' | b',' | b')')
        )
        .then_some(cell)
    }

    /// One or more ASCII digits.
    fn digits(&mut self) -> Option<&'a str> {
        let start = self.at;
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.at += 1;
        }
        (self.at > start).then(|| self.text.get(start..self.at))?
    }

    /// `digits` or `digits.digits`.
    fn number(&mut self) -> Option<&'a str> {
        let start = self.at;
        self.digits()?;
        if self.peek() == Some(b'.') {
            self.at += 1;
            self.digits()?;
        }
        self.text.get(start..self.at)
    }

    /// `'…'` with `''` for a quote.
    fn string(&mut self) -> Option<RowCell<'a>> {
        self.at += 1;
        let start = self.at;
        let mut owned: Option<String> = None;
        let mut piece = start;
        loop {
            let rest = self.text.get(self.at..)?;
            let quote = rest.find('\'')?;
            self.at += quote + 1;
            if self.peek() == Some(b'\'') {
                // `''`: keep the text up to and with one quote, go on.
                owned
                    .get_or_insert_with(String::new)
                    .push_str(self.text.get(piece..self.at)?);
                self.at += 1;
                piece = self.at;
                continue;
            }
            let tail = self.text.get(piece..self.at - 1)?;
            return Some(RowCell::Text(match owned {
                Some(mut s) => {
                    s.push_str(tail);
                    Cow::Owned(s)
                }
                None => Cow::Borrowed(self.text.get(start..self.at - 1)?),
            }));
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::parse_statement;
    use sqlparser::ast::{Expr, SetExpr, Statement};

    /// What the parser makes of each cell of each row.
    fn parsed_rows(sql: &str) -> Vec<Vec<Expr>> {
        let Ok(crate::KalamStatement::Standard(stmt)) = parse_statement(sql) else {
            panic!("{sql} does not parse as a plain statement");
        };
        let Statement::Insert(ins) = *stmt else {
            panic!("{sql} is not an INSERT");
        };
        let SetExpr::Values(v) = *ins.source.unwrap().body else {
            panic!("{sql} has no VALUES");
        };
        v.rows.into_iter().map(|r| r.content).collect()
    }

    #[test]
    fn scanned_rows_read_as_the_parser_reads_them() {
        for sql in [
            "INSERT INTO app.t (id, body) VALUES (1, 'a'), (2, 'it''s'), (-3, '')",
            "insert into t values (1.50, NULL, true, FALSE, $1, $12);",
            "  INSERT INTO t(a,b)VALUES(1,'x')  ;  ",
            "INSERT INTO t (a) VALUES\n\t('multi\nline'),\r\n('''quoted''')",
            "INSERT INTO t (a) VALUES ('back\\slash'), ('ünï ©ode'), (007), (-0.5)",
            "INSERT INTO t (a, b) VALUES ( 1 , 'x' ) , ( 2,'y')",
        ] {
            let scanned = scan_insert_rows(sql).unwrap_or_else(|| panic!("not scanned: {sql}"));
            let got: Vec<Vec<Expr>> = scanned
                .rows
                .iter()
                .map(|r| r.iter().map(RowCell::to_expr).collect())
                .collect();
            assert_eq!(got, parsed_rows(sql), "{sql}");
            let probe = scanned.probe();
            assert_eq!(parsed_rows(&probe).first(), got.first(), "{probe}");
            assert_eq!(
                crate::split_statements(sql).unwrap(),
                vec![scanned.statement.to_string()],
                "{sql}"
            );
        }
    }

    #[test]
    fn anything_else_is_not_scanned() {
        for sql in [
            "INSERT INTO t VALUES (1) RETURNING id",
            "INSERT INTO t VALUES (1); INSERT INTO t VALUES (2)",
            "INSERT INTO t VALUES (1 + 1)",
            "INSERT INTO t VALUES (1e5)",
            "INSERT INTO t VALUES (.5)",
            "INSERT INTO t VALUES (5.)",
            "INSERT INTO t VALUES (- 5)",
            "INSERT INTO t VALUES (--5\n)",
            "INSERT INTO t VALUES (1) -- done",
            "INSERT INTO t VALUES (/* c */ 1)",
            "INSERT INTO t VALUES ('a' 'b')",
            "INSERT INTO t VALUES ('open)",
            "INSERT INTO t VALUES (E'x')",
            "INSERT INTO t VALUES (NULL::int)",
            "INSERT INTO t VALUES ($1x)",
            "INSERT INTO t VALUES ($)",
            "INSERT INTO t VALUES (now())",
            "INSERT INTO t VALUES (DEFAULT)",
            "INSERT INTO t VALUES ()",
            "INSERT INTO t VALUES (1),",
            "INSERT INTO t VALUES",
            "INSERT INTO t SELECT 1",
            "INSERT INTO \"values\" VALUES (1)",
            "INSERT INTO t /* VALUES */ VALUES (1)",
            "INSERT INTO t VALUES (1)\u{a0}",
            "UPDATE t SET a = 1",
            "INSERTX INTO t VALUES (1)",
            // Found by the fuzzer: an open parenthesis before VALUES keeps
            // the `;` inside the statement for the splitter.
            "INSERT INTOa pINSVALUES (3, NUp.nn VALUES (3, NULL, 'x');",
            "INSERT INTO t (a)) VALUES (1)",
        ] {
            assert!(scan_insert_rows(sql).is_none(), "scanned: {sql}");
        }
    }
}
