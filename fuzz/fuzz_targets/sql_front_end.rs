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
//!   exactly as parsing the statement's text (statement or error, positions included).

#![no_main]

use kalamdb_sql::sqlparser::ast::Statement;
use kalamdb_sql::{
    KalamStatement, parse_statement, parse_statement_tokens, split_statements,
    split_statements_with_tokens,
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

/// `SUBSCRIBE TO` keeps its query as printed text (`query.to_string()`), which the server
/// parses and plans again, so that text must parse back to the very same query (sqlparser's
/// AST equality ignores source positions). Other statements go to DataFusion as ASTs and are
/// never re-parsed from their printed form, which sqlparser does not always print faithfully;
/// their printed form is still parsed, for coverage, but not compared.
fn check_reparse(stmt: &KalamStatement) {
    match stmt {
        KalamStatement::SubscribeTo { query, .. } => {
            let printed = query.to_string();
            match parse_statement(&printed) {
                Ok(KalamStatement::Standard(reparsed)) => match *reparsed {
                    Statement::Query(reparsed) => {
                        assert_eq!(reparsed, *query, "{printed:?} is another query")
                    }
                    other => panic!("{printed:?} reparsed as another statement: {other}"),
                },
                Ok(other) => panic!("{printed:?} reparsed as a KalamDB statement: {other:?}"),
                Err(err) => panic!("{printed:?} (a subscription's stored SQL) fails: {err}"),
            }
        }
        KalamStatement::Standard(ast) => {
            let _ = parse_statement(&ast.to_string());
        }
        _ => {}
    }
}
