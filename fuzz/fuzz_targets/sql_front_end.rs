//! The SQL front end as `POST /v1/api/sql` drives it: split the request text into
//! statements, then parse each one.
//!
//! Properties, beyond "never panics, never hangs":
//! - every piece is non-empty, trimmed, and a substring of the request;
//! - splitting a piece again gives back exactly that piece (a client that splits and sends
//!   statements one by one gets the same statements as the server);
//! - errors are the caller's fault (HTTP 400) with a non-empty message;
//! - the query of a `SUBSCRIBE TO` prints (sqlparser's `Display`) as text that parses back
//!   to the same query: the server stores that text and plans it again later;
//! - when the splitter hands a one-statement request's tokens over, parsing them answers
//!   exactly as parsing the statement's text (statement or error, positions included);
//! - when `scan_insert_rows` reads a text's rows without the parser, the text is one
//!   statement, and the parser reads the same rows (cell for cell) whenever it reads an
//!   INSERT … VALUES; when the probe (the statement with its first row) parses, so does the
//!   whole text.

#![no_main]

use kalamdb_sql::sqlparser::ast::{Expr, SetExpr, Statement};
use kalamdb_sql::{
    KalamStatement, RowCell, parse_statement, parse_statement_tokens, scan_insert_rows,
    split_statements, split_statements_with_tokens,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(sql) = std::str::from_utf8(data) else {
        return;
    };
    let pieces = match split_statements(sql) {
        Ok(pieces) => pieces,
        Err(err) => {
            assert_eq!(err.kind.http_status(), 400);
            assert!(!err.message.is_empty());
            return;
        }
    };
    assert!(!pieces.is_empty());
    if let Some(scanned) = scan_insert_rows(sql) {
        assert_eq!(
            pieces,
            vec![scanned.statement.to_string()],
            "scanned statement"
        );
        let rows: Vec<Vec<Expr>> = scanned
            .rows
            .iter()
            .map(|r| r.iter().map(RowCell::to_expr).collect())
            .collect();
        let whole = values_rows(scanned.statement);
        if let Some(parsed) = &whole {
            assert_eq!(parsed, &rows, "the scanner read other rows than the parser");
        }
        if let Some(probe) = values_rows(&scanned.probe()) {
            assert_eq!(probe.first(), rows.first(), "the probe's row differs");
            assert!(
                whole.is_some(),
                "the probe parses but the whole text does not"
            );
        }
    }
    let (with_tokens, tokens) = split_statements_with_tokens(sql).expect("splits as before");
    assert_eq!(with_tokens, pieces);
    if let (Some(tokens), [piece]) = (tokens, pieces.as_slice()) {
        let reused = parse_statement_tokens(piece, tokens);
        assert_eq!(
            format!("{reused:?}"),
            format!("{:?}", parse_statement(piece)),
            "parsing the splitter's tokens differs from parsing the text"
        );
    }
    for piece in &pieces {
        assert!(!piece.is_empty());
        assert_eq!(piece.trim(), piece);
        assert!(
            sql.contains(piece.as_str()),
            "{piece:?} is not in the request"
        );
        let again = split_statements(piece).expect("a split piece splits again");
        assert_eq!(
            &again,
            std::slice::from_ref(piece),
            "re-splitting changed the piece"
        );

        match parse_statement(piece) {
            Ok(stmt) => check_reparse(&stmt),
            Err(err) => {
                assert_eq!(err.kind.http_status(), 400);
                assert!(!err.message.is_empty());
            }
        }
    }
});

/// The rows of `sql` if it parses as one `INSERT … VALUES`.
fn values_rows(sql: &str) -> Option<Vec<Vec<Expr>>> {
    let Ok(KalamStatement::Standard(stmt)) = parse_statement(sql) else {
        return None;
    };
    let Statement::Insert(ins) = *stmt else {
        return None;
    };
    let SetExpr::Values(v) = *ins.source?.body else {
        return None;
    };
    Some(v.rows.into_iter().map(|r| r.content).collect())
}

/// `SUBSCRIBE TO` and `CREATE VIEW` keep their query as printed text (`query.to_string()`),
/// which the server parses and plans again, so that text must parse back to the very same query (sqlparser's
/// AST equality ignores source positions). Other statements go to DataFusion as ASTs and are
/// never re-parsed from their printed form, which sqlparser does not always print faithfully;
/// their printed form is still parsed, for coverage, but not compared.
fn check_reparse(stmt: &KalamStatement) {
    match stmt {
        KalamStatement::SubscribeTo { query, .. } | KalamStatement::CreateView { query, .. } => {
            let printed = query.to_string();
            match parse_statement(&printed) {
                Ok(KalamStatement::Standard(reparsed)) => match *reparsed {
                    Statement::Query(reparsed) => {
                        assert_eq!(reparsed, *query, "{printed:?} is another query")
                    }
                    other => panic!("{printed:?} reparsed as another statement: {other}"),
                },
                Ok(other) => panic!("{printed:?} reparsed as a KalamDB statement: {other:?}"),
                Err(err) => {
                    panic!("{printed:?} (a subscription's or view's stored SQL) fails: {err}")
                }
            }
        }
        KalamStatement::Standard(ast) => {
            let _ = parse_statement(&ast.to_string());
        }
        _ => {}
    }
}
