//! The SQL dialect we parse with: DataFusion's `GenericDialect`, plus a bound on parsing work.
//!
//! sqlparser backtracks: a word with a special form (`POSITION(`, `SUBSTR(`, `INTERVAL`,
//! `ARRAY[`, …) is first parsed as that form and, when that fails, again as a plain name or
//! function. Nested failures therefore cost about 2^depth, and fuzzing found 160 bytes of
//! `position(position(…` taking 25 s of CPU (the recursion limit caps depth, not this). The
//! `parse_prefix` hook runs at the start of every expression, so counting calls there bounds
//! the work of a whole statement. Past the budget every expression fails with
//! `RecursionLimitExceeded`, the one error sqlparser's backtracking does not swallow, so the
//! parse unwinds at once.
//!
//! The JSON operators `->`, `->>`, `#>`, `#>>` bind as in PostgreSQL (above comparisons).
//!
//! Everything else is `GenericDialect`'s: each method it overrides is forwarded, and the
//! dialect reports `GenericDialect`'s `TypeId`, so sqlparser's `dialect_of!` checks treat it
//! as that dialect. (`generic_dialect_behaviour_is_kept` guards the forwarding.)

use std::any::TypeId;
use std::cell::Cell;

use sqlparser::ast::Expr;
use sqlparser::dialect::{Dialect, GenericDialect};
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::Token;

/// Expressions a statement may start before its parse is abandoned: a floor for short
/// statements plus a multiple of its significant tokens. Well-formed statements need less
/// than one per token (measured over the golden scripts and 20,000-row INSERTs), so the
/// budget only binds when backtracking multiplies the work; parsing stays linear in the
/// statement's size (600 KB built to backtrack is refused in about a second).
const BUDGET_FLOOR: u64 = 10_000;
const BUDGET_PER_TOKEN: u64 = 4;

thread_local! {
    /// Expression starts left in the running parse; `None` outside [`with_budget`].
    static REMAINING: Cell<Option<u64>> = const { Cell::new(None) };
}

/// Between `||` (21) and `+`/`-` (30) on `GenericDialect`'s scale, as
/// PostgreSQL orders its "other" operators; see `get_next_precedence`.
const JSON_OPERATOR_PRECEDENCE: u8 = 25;

/// `GenericDialect` with a work budget; see the module docs.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct KalamDialect;

pub(crate) static DIALECT: KalamDialect = KalamDialect;

/// Why [`with_budget`] gave up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BudgetExhausted;

/// Runs a parse of a statement of `tokens` significant tokens under a work budget. A parse
/// nested in another (the inner statement of EXECUTE AS USER) shares the outer budget.
pub(crate) fn with_budget<T>(
    tokens: usize,
    parse: impl FnOnce() -> T,
) -> Result<T, BudgetExhausted> {
    if REMAINING.get().is_some() {
        let out = parse();
        return if REMAINING.get() == Some(0) {
            Err(BudgetExhausted)
        } else {
            Ok(out)
        };
    }
    let tokens = u64::try_from(tokens).unwrap_or(u64::MAX);
    REMAINING.set(Some(
        BUDGET_FLOOR.saturating_add(tokens.saturating_mul(BUDGET_PER_TOKEN)),
    ));
    // Cleared even if the parse panics, so a later parse on this thread starts afresh.
    struct Reset;
    impl Drop for Reset {
        fn drop(&mut self) {
            REMAINING.set(None);
        }
    }
    let _reset = Reset;
    let out = parse();
    if REMAINING.get() == Some(0) {
        Err(BudgetExhausted)
    } else {
        Ok(out)
    }
}

impl Dialect for KalamDialect {
    fn dialect(&self) -> TypeId {
        TypeId::of::<GenericDialect>()
    }

    fn parse_prefix(&self, parser: &mut Parser) -> Option<Result<Expr, ParserError>> {
        match REMAINING.get() {
            Some(0) => return Some(Err(ParserError::RecursionLimitExceeded)),
            Some(n) => REMAINING.set(Some(n - 1)),
            None => {}
        }
        GenericDialect.parse_prefix(parser)
    }

    /// The JSON operators bind as PostgreSQL binds them: tighter than
    /// comparisons and `||`, looser than arithmetic, so `meta->>'tool' =
    /// 'x'` compares the extracted text. (`GenericDialect` ranks them below
    /// `=`, which would extract with the key `'tool' = 'x'`.)
    fn get_next_precedence(&self, parser: &Parser) -> Option<Result<u8, ParserError>> {
        match parser.peek_token_ref().token {
            Token::Arrow | Token::LongArrow | Token::HashArrow | Token::HashLongArrow => {
                Some(Ok(JSON_OPERATOR_PRECEDENCE))
            }
            _ => GenericDialect.get_next_precedence(parser),
        }
    }

    fn is_delimited_identifier_start(&self, ch: char) -> bool {
        GenericDialect.is_delimited_identifier_start(ch)
    }

    fn is_identifier_start(&self, ch: char) -> bool {
        GenericDialect.is_identifier_start(ch)
    }

    fn is_identifier_part(&self, ch: char) -> bool {
        GenericDialect.is_identifier_part(ch)
    }

    fn supports_unicode_string_literal(&self) -> bool {
        GenericDialect.supports_unicode_string_literal()
    }

    fn supports_partition_by_after_order_by(&self) -> bool {
        GenericDialect.supports_partition_by_after_order_by()
    }

    fn supports_array_join_syntax(&self) -> bool {
        GenericDialect.supports_array_join_syntax()
    }

    fn supports_group_by_expr(&self) -> bool {
        GenericDialect.supports_group_by_expr()
    }

    fn supports_group_by_with_modifier(&self) -> bool {
        GenericDialect.supports_group_by_with_modifier()
    }

    fn supports_left_associative_joins_without_parens(&self) -> bool {
        GenericDialect.supports_left_associative_joins_without_parens()
    }

    fn supports_connect_by(&self) -> bool {
        GenericDialect.supports_connect_by()
    }

    fn supports_match_recognize(&self) -> bool {
        GenericDialect.supports_match_recognize()
    }

    fn supports_pipe_operator(&self) -> bool {
        GenericDialect.supports_pipe_operator()
    }

    fn supports_start_transaction_modifier(&self) -> bool {
        GenericDialect.supports_start_transaction_modifier()
    }

    fn supports_window_function_null_treatment_arg(&self) -> bool {
        GenericDialect.supports_window_function_null_treatment_arg()
    }

    fn supports_dictionary_syntax(&self) -> bool {
        GenericDialect.supports_dictionary_syntax()
    }

    fn supports_window_clause_named_window_reference(&self) -> bool {
        GenericDialect.supports_window_clause_named_window_reference()
    }

    fn supports_parenthesized_set_variables(&self) -> bool {
        GenericDialect.supports_parenthesized_set_variables()
    }

    fn supports_select_wildcard_except(&self) -> bool {
        GenericDialect.supports_select_wildcard_except()
    }

    fn support_map_literal_syntax(&self) -> bool {
        GenericDialect.support_map_literal_syntax()
    }

    fn allow_extract_custom(&self) -> bool {
        GenericDialect.allow_extract_custom()
    }

    fn allow_extract_single_quotes(&self) -> bool {
        GenericDialect.allow_extract_single_quotes()
    }

    fn supports_extract_comma_syntax(&self) -> bool {
        GenericDialect.supports_extract_comma_syntax()
    }

    fn supports_create_view_comment_syntax(&self) -> bool {
        GenericDialect.supports_create_view_comment_syntax()
    }

    fn supports_parens_around_table_factor(&self) -> bool {
        GenericDialect.supports_parens_around_table_factor()
    }

    fn supports_values_as_table_factor(&self) -> bool {
        GenericDialect.supports_values_as_table_factor()
    }

    fn supports_create_index_with_clause(&self) -> bool {
        GenericDialect.supports_create_index_with_clause()
    }

    fn supports_explain_with_utility_options(&self) -> bool {
        GenericDialect.supports_explain_with_utility_options()
    }

    fn supports_limit_comma(&self) -> bool {
        GenericDialect.supports_limit_comma()
    }

    fn supports_update_order_by(&self) -> bool {
        GenericDialect.supports_update_order_by()
    }

    fn supports_from_first_select(&self) -> bool {
        GenericDialect.supports_from_first_select()
    }

    fn supports_projection_trailing_commas(&self) -> bool {
        GenericDialect.supports_projection_trailing_commas()
    }

    fn supports_asc_desc_in_column_definition(&self) -> bool {
        GenericDialect.supports_asc_desc_in_column_definition()
    }

    fn supports_try_convert(&self) -> bool {
        GenericDialect.supports_try_convert()
    }

    fn supports_bitwise_shift_operators(&self) -> bool {
        GenericDialect.supports_bitwise_shift_operators()
    }

    fn supports_comment_on(&self) -> bool {
        GenericDialect.supports_comment_on()
    }

    fn supports_load_extension(&self) -> bool {
        GenericDialect.supports_load_extension()
    }

    fn supports_named_fn_args_with_assignment_operator(&self) -> bool {
        GenericDialect.supports_named_fn_args_with_assignment_operator()
    }

    fn supports_struct_literal(&self) -> bool {
        GenericDialect.supports_struct_literal()
    }

    fn supports_empty_projections(&self) -> bool {
        GenericDialect.supports_empty_projections()
    }

    fn supports_nested_comments(&self) -> bool {
        GenericDialect.supports_nested_comments()
    }

    fn supports_multiline_comment_hints(&self) -> bool {
        GenericDialect.supports_multiline_comment_hints()
    }

    fn supports_user_host_grantee(&self) -> bool {
        GenericDialect.supports_user_host_grantee()
    }

    fn supports_string_escape_constant(&self) -> bool {
        GenericDialect.supports_string_escape_constant()
    }

    fn supports_array_typedef_with_brackets(&self) -> bool {
        GenericDialect.supports_array_typedef_with_brackets()
    }

    fn supports_match_against(&self) -> bool {
        GenericDialect.supports_match_against()
    }

    fn supports_set_names(&self) -> bool {
        GenericDialect.supports_set_names()
    }

    fn supports_comma_separated_set_assignments(&self) -> bool {
        GenericDialect.supports_comma_separated_set_assignments()
    }

    fn supports_filter_during_aggregation(&self) -> bool {
        GenericDialect.supports_filter_during_aggregation()
    }

    fn supports_select_wildcard_exclude(&self) -> bool {
        GenericDialect.supports_select_wildcard_exclude()
    }

    fn supports_data_type_signed_suffix(&self) -> bool {
        GenericDialect.supports_data_type_signed_suffix()
    }

    fn supports_interval_options(&self) -> bool {
        GenericDialect.supports_interval_options()
    }

    fn supports_quote_delimited_string(&self) -> bool {
        GenericDialect.supports_quote_delimited_string()
    }

    fn supports_select_wildcard_replace(&self) -> bool {
        GenericDialect.supports_select_wildcard_replace()
    }

    fn supports_select_wildcard_ilike(&self) -> bool {
        GenericDialect.supports_select_wildcard_ilike()
    }

    fn supports_select_wildcard_rename(&self) -> bool {
        GenericDialect.supports_select_wildcard_rename()
    }

    fn supports_optimize_table(&self) -> bool {
        GenericDialect.supports_optimize_table()
    }

    fn supports_install(&self) -> bool {
        GenericDialect.supports_install()
    }

    fn supports_detach(&self) -> bool {
        GenericDialect.supports_detach()
    }

    fn supports_prewhere(&self) -> bool {
        GenericDialect.supports_prewhere()
    }

    fn supports_with_fill(&self) -> bool {
        GenericDialect.supports_with_fill()
    }

    fn supports_limit_by(&self) -> bool {
        GenericDialect.supports_limit_by()
    }

    fn supports_interpolate(&self) -> bool {
        GenericDialect.supports_interpolate()
    }

    fn supports_settings(&self) -> bool {
        GenericDialect.supports_settings()
    }

    fn supports_select_format(&self) -> bool {
        GenericDialect.supports_select_format()
    }

    fn supports_comment_optimizer_hint(&self) -> bool {
        GenericDialect.supports_comment_optimizer_hint()
    }

    fn supports_constraint_keyword_without_name(&self) -> bool {
        GenericDialect.supports_constraint_keyword_without_name()
    }

    fn supports_key_column_option(&self) -> bool {
        GenericDialect.supports_key_column_option()
    }

    fn supports_comma_separated_trim(&self) -> bool {
        GenericDialect.supports_comma_separated_trim()
    }

    fn supports_cte_without_as(&self) -> bool {
        GenericDialect.supports_cte_without_as()
    }

    fn supports_select_item_multi_column_alias(&self) -> bool {
        GenericDialect.supports_select_item_multi_column_alias()
    }

    fn supports_xml_expressions(&self) -> bool {
        GenericDialect.supports_xml_expressions()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use std::time::{Duration, Instant};

    use sqlparser::ast::{SelectItem, SetExpr, Statement};
    use sqlparser::tokenizer::Tokenizer;

    use super::*;
    use crate::{SqlErrorKind, parse_statement};

    /// Every request of the golden SQL scripts (`tests/sql/**/*.sql`, prompt lines up to the
    /// first line ending in `;`).
    fn golden_requests() -> Vec<String> {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/sql");
        let mut files = Vec::new();
        let mut dirs = vec![std::path::PathBuf::from(root)];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "sql") {
                    files.push(path);
                }
            }
        }
        let mut requests = Vec::new();
        for file in files {
            let text = std::fs::read_to_string(file).unwrap();
            let mut current: Option<String> = None;
            for line in text.lines() {
                let sql = match current.take() {
                    Some(sql) => format!("{sql}\n{line}"),
                    None => match line.split_once(":> ") {
                        Some((user, rest))
                            if !user.is_empty()
                                && user
                                    .chars()
                                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') =>
                        {
                            rest.to_string()
                        }
                        _ => continue,
                    },
                };
                if sql.trim_end().ends_with(';') {
                    requests.push(sql);
                } else {
                    current = Some(sql);
                }
            }
        }
        requests
    }

    /// The forwarding of `GenericDialect`'s methods is complete: tokens and ASTs are the same
    /// with either dialect, over the golden scripts and statements that lean on the
    /// dialect's switches.
    #[test]
    fn generic_dialect_behaviour_is_kept() {
        let mut texts = golden_requests();
        assert!(texts.len() > 100, "golden scripts not found");
        texts.extend(
            [
                "SELECT * EXCEPT (a) FROM t",
                "SELECT * EXCLUDE (a) FROM t",
                "SELECT * REPLACE (a + 1 AS a) FROM t",
                "SELECT {'a': 1}, MAP {'a': 1}, STRUCT(1 AS a)",
                "SELECT x FROM t LIMIT 1, 2",
                "SELECT @x, #y, `q` FROM t",
                "SELECT U&'\\0041', E'a\\n'",
                "SELECT 1 << 2, a ILIKE 'x'",
                "SELECT TRIM('a', 'b'), EXTRACT(YEAR, d), POSITION('a' IN b)",
                "/* outer /* nested */ still comment */ SELECT 1",
                "SELECT 1 /*!40000 + 2 */",
                "FROM t SELECT a",
                "SELECT a, b, FROM t",
                "SELECT f(a := 1), g(b => 2)",
                "WITH x (SELECT 1) SELECT * FROM x",
                "SELECT a FROM t GROUP BY a WITH ROLLUP",
                "SELECT a FROM t WINDOW w AS (PARTITION BY a)",
                "SELECT COUNT(*) FILTER (WHERE a > 1) FROM t",
                "SELECT CAST(a AS INT UNSIGNED), a::TEXT FROM t",
                "UPDATE t SET a = 1 ORDER BY b LIMIT 1",
                "SELECT * FROM (VALUES (1), (2)) v",
                "SELECT (a, b) AS (x, y) FROM t",
            ]
            .map(String::from),
        );
        // The JSON operators are the one deliberate difference
        // (`json_operators_bind_above_comparisons`).
        texts.retain(|t| !t.contains("->") && !t.contains("#>"));
        for text in &texts {
            let tokens = |d: &dyn Dialect| {
                Tokenizer::new(d, text)
                    .tokenize()
                    .map_err(|e| e.to_string())
            };
            assert_eq!(tokens(&GenericDialect), tokens(&DIALECT), "{text}");
            let parse = |d: &dyn Dialect| Parser::parse_sql(d, text).map_err(|e| e.to_string());
            assert_eq!(parse(&GenericDialect), parse(&DIALECT), "{text}");
        }
    }

    #[test]
    fn json_operators_bind_above_comparisons() {
        let expr = |sql: &str| -> String {
            let Ok(Statement::Query(q)) =
                Parser::parse_sql(&DIALECT, &format!("SELECT {sql}")).map(|mut v| v.remove(0))
            else {
                panic!("{sql} does not parse");
            };
            let SetExpr::Select(sel) = *q.body else {
                panic!("{sql}");
            };
            match &sel.projection[0] {
                SelectItem::UnnamedExpr(e) => format!("{e:?}"),
                other => panic!("{other:?}"),
            }
        };
        // (m ->> 'tool') = 'x', not m ->> ('tool' = 'x').
        let eq = expr("m->>'tool' = 'x'");
        assert!(eq.starts_with("BinaryOp { left: BinaryOp"), "{eq}");
        assert!(eq.contains("op: LongArrow"), "{eq}");
        assert!(eq.contains("op: Eq"), "{eq}");
        let chained = expr("m->'a'->>'b' LIKE 'x%'");
        assert!(chained.starts_with("Like"), "{chained}");
        // Arithmetic binds tighter, as in PostgreSQL: m -> ('a' || ...) is not
        // at stake, m -> (1 + 1) is.
        let arith = expr("m->1+1");
        assert!(arith.starts_with("BinaryOp { left: Identifier"), "{arith}");
        assert!(arith.contains("op: Plus"), "{arith}");
        // And AND/OR bind looser still.
        let and = expr("m->>'a' = 'x' AND m->>'b' = 'y'");
        assert!(and.contains("op: And"), "{and}");
    }

    /// Found by fuzzing (`fuzz/regressions/sql_front_end/`): nested special forms that fail
    /// to parse made sqlparser backtrack exponentially; `position(` 16 deep took 25 s.
    #[test]
    fn nested_special_forms_that_fail_to_parse_are_cut_off_quickly() {
        on_a_big_stack(|| {
            for unit in [
                "position(",
                "substr(a, ",
                "interval ",
                "array[",
                "extract(a, ",
            ] {
                let sql = format!("SELECT {}", unit.repeat(40));
                let started = Instant::now();
                let err = parse_statement(&sql).unwrap_err();
                assert_eq!(err.kind, SqlErrorKind::Parse, "{unit}");
                assert_eq!(
                    err.message,
                    "Statement is too complex to parse (too deeply nested); simplify it",
                    "{unit}"
                );
                assert!(
                    started.elapsed() < Duration::from_secs(5),
                    "{unit}: {:?}",
                    started.elapsed()
                );
            }
            // The budget is per statement: the next one parses normally.
            assert!(parse_statement("SELECT position('a' IN 'cat')").is_ok());
        });
    }

    #[test]
    fn large_and_deep_valid_statements_stay_within_the_budget() {
        let rows = vec!["(1, 'a', 2.5, NULL)"; 5_000].join(", ");
        assert!(parse_statement(&format!("INSERT INTO t VALUES {rows}")).is_ok());
        let nested = format!("SELECT {}1{}", "abs(".repeat(30), ")".repeat(30));
        let deep = format!("SELECT {}'a'{}", "substr(".repeat(12), ", 1)".repeat(12));
        on_a_big_stack(move || {
            assert!(parse_statement(&nested).is_ok(), "{nested}");
            assert!(parse_statement(&deep).is_ok(), "{deep}");
        });
    }

    /// Runs `f` on a thread with a 64 MiB stack: without DataFusion in this crate's build,
    /// sqlparser grows no stack of its own (the server's build does), and an unoptimised
    /// build's frames overflow a test thread's 2 MiB well before the recursion limit.
    fn on_a_big_stack(f: impl FnOnce() + Send + 'static) {
        std::thread::Builder::new()
            .stack_size(64 << 20)
            .spawn(f)
            .unwrap()
            .join()
            .unwrap();
    }
}
