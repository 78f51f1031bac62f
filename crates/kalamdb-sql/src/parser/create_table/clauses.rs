//! Everything after a `CREATE TABLE`'s column list: `USING kalamdb`, `WITH (…)` and the
//! seed-era clauses of `sql.md` §2.2, in any order.
//!
//! Both spellings land in one set of settings, each settable once, so `FLUSH ROWS 100`
//! and `WITH (FLUSH_POLICY='rows:100')` are indistinguishable afterwards and giving either
//! twice is the same "Duplicate option FLUSH_POLICY". Only after all clauses are read is the
//! table kind settled and each setting checked against it.

use kalamdb_types::{AccessLevel, FlushPolicy, StorageId, TableOptions, TableType};
use sqlparser::keywords::Keyword;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::Token;

use crate::error::SqlError;
use crate::parser::cursor::{ParserExt, expected, set_once};
use crate::statement::TableProperties;

/// Settings as given, before the table kind is known.
#[derive(Debug, Default)]
pub(crate) struct TableClauses {
    table_type: Option<TableType>,
    engine: Option<String>,
    storage_id: Option<StorageId>,
    /// FLUSH_POLICY, TTL_SECONDS, DELETED_RETENTION_HOURS: the ones `ALTER TABLE` may change.
    properties: TableProperties,
    access_level: Option<AccessLevel>,
    ignored: Vec<String>,
}

/// The settled kind, the options valid for it, and the ignored seed-era clauses.
#[derive(Debug)]
pub(crate) struct ResolvedOptions {
    pub table_type: TableType,
    pub options: TableOptions,
    pub ignored: Vec<String>,
}

/// Reads clauses up to the end of the statement; an unknown word is a parse error.
pub(crate) fn parse_table_clauses(p: &mut Parser) -> Result<TableClauses, SqlError> {
    let mut clauses = TableClauses::default();
    while !p.next_is_end(0) {
        if p.parse_keyword(Keyword::USING) {
            let engine = p.parse_identifier()?.value;
            if !engine.eq_ignore_ascii_case("kalamdb") {
                return Err(SqlError::invalid(format!(
                    "Unsupported table engine '{engine}': only USING kalamdb is accepted"
                )));
            }
            set_once(&mut clauses.engine, engine, "USING")?;
        } else if p.parse_keyword(Keyword::WITH) {
            parse_option_list(p, |name, value| clauses.apply(name, value))?;
        } else if p.parse_keyword(Keyword::FLUSH) {
            let policy = parse_flush_clause(p)?;
            set_once(&mut clauses.properties.flush_policy, policy, "FLUSH_POLICY")?;
        } else if let Some(clause) = ["TTL", "RETENTION"].into_iter().find(|w| p.parse_word(w)) {
            let ttl = parse_duration(p, clause)?;
            set_once(&mut clauses.properties.ttl_seconds, ttl, "TTL_SECONDS")?;
        } else if let Some(clause) = ["BUFFER_SIZE", "MAX_BUFFER"]
            .into_iter()
            .find(|w| p.parse_word(w))
        {
            parse_count(p, clause)?;
            clauses.ignore(clause);
        } else if p.parse_keyword(Keyword::EPHEMERAL) {
            clauses.ignore("EPHEMERAL");
        } else if p.parse_keyword(Keyword::LOCATION) {
            p.parse_literal_string()?;
            clauses.ignore("LOCATION");
        } else {
            return Err(expected(p, "end of statement", p.peek_token_ref()));
        }
    }
    Ok(clauses)
}

/// `(name = value, …)`, at least one, after the word that introduces it (`WITH`, `ALTER
/// TABLE … SET TBLPROPERTIES`): each option's upper-case name and trimmed value go to
/// `apply`, in order.
pub(crate) fn parse_option_list(
    p: &mut Parser,
    mut apply: impl FnMut(&str, &str) -> Result<(), SqlError>,
) -> Result<(), SqlError> {
    p.expect_token(&Token::LParen)?;
    loop {
        let name = p.parse_identifier()?.value.to_ascii_uppercase();
        p.expect_token(&Token::Eq)?;
        let value = parse_option_value(p)?;
        apply(&name, value.trim())?;
        if !p.consume_token(&Token::Comma) {
            p.expect_token(&Token::RParen)?;
            return Ok(());
        }
    }
}

/// An option value: quoted or not, a word or a (possibly negative) number.
fn parse_option_value(p: &mut Parser) -> Result<String, SqlError> {
    let token = p.next_token();
    match token.token {
        Token::SingleQuotedString(s) | Token::Number(s, _) => Ok(s),
        Token::Word(w) => Ok(w.value),
        Token::Minus => match p.next_token().token {
            Token::Number(n, _) => Ok(format!("-{n}")),
            _ => Err(expected(p, "a number after '-'", p.get_current_token())),
        },
        _ => Err(expected(p, "an option value", &token)),
    }
}

impl TableClauses {
    fn ignore(&mut self, clause: &str) {
        if !self.ignored.iter().any(|c| c == clause) {
            self.ignored.push(clause.to_string());
        }
    }

    /// One `WITH` option; `name` is upper-case.
    fn apply(&mut self, name: &str, value: &str) -> Result<(), SqlError> {
        match name {
            "TYPE" => {
                let kind = TableType::parse(value).ok_or_else(|| {
                    SqlError::invalid(format!(
                        "Invalid table TYPE '{value}': expected USER, SHARED or STREAM"
                    ))
                })?;
                set_once(&mut self.table_type, kind, name)
            }
            "STORAGE_ID" => {
                let id = StorageId::parse(&value.to_ascii_lowercase())?;
                set_once(&mut self.storage_id, id, name)
            }
            "ACCESS_LEVEL" => set_once(&mut self.access_level, parse_access_level(value)?, name),
            _ => apply_property(&mut self.properties, name, value),
        }
    }

    /// Settles the kind (`keyword` is `CREATE <kind> TABLE`'s) and checks every setting
    /// against it.
    pub(crate) fn resolve(self, keyword: Option<TableType>) -> Result<ResolvedOptions, SqlError> {
        let table_type = match (keyword, self.table_type) {
            (Some(k), Some(t)) if k != t => {
                return Err(SqlError::invalid(format!(
                    "Conflicting table type: {} TABLE with TYPE='{}'",
                    k.upper(),
                    t.upper()
                )));
            }
            (Some(kind), _) | (None, Some(kind)) => kind,
            (None, None) => TableType::Shared,
        };
        let TableProperties {
            flush_policy,
            ttl_seconds,
            deleted_retention_hours,
        } = self.properties;
        let stream = table_type == TableType::Stream;
        let user_or_shared = "USER and SHARED";
        let misplaced = [
            (
                self.access_level.is_some() && table_type != TableType::Shared,
                "ACCESS_LEVEL",
                "SHARED",
            ),
            (ttl_seconds.is_some() && !stream, "TTL_SECONDS", "STREAM"),
            (
                stream && self.storage_id.is_some(),
                "STORAGE_ID",
                user_or_shared,
            ),
            (
                stream && flush_policy.is_some(),
                "FLUSH_POLICY",
                user_or_shared,
            ),
            (
                stream && deleted_retention_hours.is_some(),
                "DELETED_RETENTION_HOURS",
                user_or_shared,
            ),
        ];
        if let Some((_, option, kinds)) = misplaced.into_iter().find(|(set, ..)| *set) {
            return Err(SqlError::invalid(format!(
                "{option} is only valid for {kinds} tables"
            )));
        }

        let options = match table_type {
            TableType::Stream => TableOptions {
                ttl_seconds,
                ..Default::default()
            },
            _ => TableOptions {
                storage_id: Some(self.storage_id.unwrap_or_else(StorageId::local)),
                flush_policy,
                ttl_seconds: None,
                deleted_retention_hours,
                access_level: (table_type == TableType::Shared)
                    .then(|| self.access_level.unwrap_or(AccessLevel::Private)),
            },
        };
        Ok(ResolvedOptions {
            table_type,
            options,
            ignored: self.ignored,
        })
    }
}

/// One of the options `ALTER TABLE … SET TBLPROPERTIES` may change as well as `CREATE
/// TABLE`'s `WITH`: `FLUSH_POLICY`, `TTL_SECONDS` (≥ 1), `DELETED_RETENTION_HOURS` (≥ 0), each
/// once. `name` is upper-case; any other name is an unknown option.
pub(crate) fn apply_property(
    properties: &mut TableProperties,
    name: &str,
    value: &str,
) -> Result<(), SqlError> {
    match name {
        "FLUSH_POLICY" => set_once(
            &mut properties.flush_policy,
            parse_flush_policy(value)?,
            name,
        ),
        "TTL_SECONDS" => {
            let ttl = value
                .parse::<u64>()
                .ok()
                .filter(|v| *v >= 1)
                .ok_or_else(|| SqlError::invalid("Invalid TTL_SECONDS value"))?;
            set_once(&mut properties.ttl_seconds, ttl, name)
        }
        "DELETED_RETENTION_HOURS" => {
            let hours = value
                .parse::<u64>()
                .map_err(|_| SqlError::invalid("Invalid DELETED_RETENTION_HOURS value"))?;
            set_once(&mut properties.deleted_retention_hours, hours, name)
        }
        _ => Err(SqlError::invalid(format!("Unknown table option '{name}'"))),
    }
}

/// `PUBLIC`, `PRIVATE`, `RESTRICTED` or `DBA`, any case.
pub(crate) fn parse_access_level(value: &str) -> Result<AccessLevel, SqlError> {
    AccessLevel::parse(value).ok_or_else(|| {
        SqlError::invalid(format!(
            "Invalid ACCESS_LEVEL '{value}': expected PUBLIC, PRIVATE, RESTRICTED or DBA"
        ))
    })
}

/// `'rows:N'`, `'interval:S'` or both, comma-separated, in either order; N, S ≥ 1.
fn parse_flush_policy(value: &str) -> Result<FlushPolicy, SqlError> {
    let invalid = || {
        SqlError::invalid(format!(
            "Invalid FLUSH_POLICY '{value}': expected rows:N,interval:S"
        ))
    };
    let mut policy = FlushPolicy {
        rows: None,
        interval_secs: None,
    };
    for part in value.split(',') {
        let (key, number) = part.split_once(':').ok_or_else(invalid)?;
        let number = number
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(invalid)?;
        let slot = match key.trim().to_ascii_lowercase().as_str() {
            "rows" => &mut policy.rows,
            "interval" => &mut policy.interval_secs,
            _ => return Err(invalid()),
        };
        if slot.replace(number).is_some() {
            return Err(invalid());
        }
    }
    Ok(policy)
}

/// `FLUSH …` (seed era), after `FLUSH`.
fn parse_flush_clause(p: &mut Parser) -> Result<FlushPolicy, SqlError> {
    let mut policy = FlushPolicy {
        rows: None,
        interval_secs: None,
    };
    if p.parse_keyword(Keyword::ROWS) {
        policy.rows = Some(parse_count(p, "FLUSH ROWS")?);
        if p.parse_keyword(Keyword::INTERVAL) {
            policy.interval_secs = Some(parse_duration(p, "FLUSH INTERVAL")?);
        }
    } else if p.parse_keyword(Keyword::INTERVAL) {
        policy.interval_secs = Some(parse_duration(p, "FLUSH INTERVAL")?);
        if p.parse_keyword(Keyword::ROWS) {
            policy.rows = Some(parse_count(p, "FLUSH ROWS")?);
        }
    } else if p.parse_keyword(Keyword::SECONDS) {
        policy.interval_secs = Some(parse_count(p, "FLUSH SECONDS")?);
    } else if p.parse_keyword(Keyword::POLICY) {
        if p.parse_word("ROW_LIMIT") {
            policy.rows = Some(parse_count(p, "ROW_LIMIT")?);
        } else if p.parse_word("TIME_INTERVAL") {
            policy.interval_secs = Some(parse_duration(p, "TIME_INTERVAL")?);
        } else if p.parse_word("COMBINED") {
            p.expect_word("ROW_LIMIT")?;
            policy.rows = Some(parse_count(p, "ROW_LIMIT")?);
            p.expect_word("TIME_INTERVAL")?;
            policy.interval_secs = Some(parse_duration(p, "TIME_INTERVAL")?);
        } else {
            return Err(expected(
                p,
                "ROW_LIMIT, TIME_INTERVAL or COMBINED",
                p.peek_token_ref(),
            ));
        }
    } else {
        return Err(expected(
            p,
            "ROWS, INTERVAL, SECONDS or POLICY after FLUSH",
            p.peek_token_ref(),
        ));
    }
    Ok(policy)
}

/// The raw text of a clause's value: a number or a quoted string. A `-` or a stray word
/// is a bad value for that clause rather than a syntax error, since the user plainly meant
/// to give one.
fn next_value_text(p: &mut Parser, clause: &str) -> Result<String, SqlError> {
    let invalid = || SqlError::invalid(format!("Invalid {clause} value"));
    let token = p.next_token();
    match token.token {
        Token::Number(n, _) => Ok(n),
        Token::SingleQuotedString(s) => Ok(s),
        Token::Minus | Token::Word(_) => Err(invalid()),
        _ => Err(expected(p, &format!("a value for {clause}"), &token)),
    }
}

/// A positive integer.
fn parse_count(p: &mut Parser, clause: &str) -> Result<u64, SqlError> {
    let text = next_value_text(p, clause)?;
    text.trim()
        .parse::<u64>()
        .ok()
        .filter(|n| *n >= 1)
        .ok_or_else(|| SqlError::invalid(format!("Invalid {clause} value")))
}

/// A positive duration in seconds: `60`, `60s`, `5m`, `1h`, `1d`, `10 SECONDS`, quoted or not.
fn parse_duration(p: &mut Parser, clause: &str) -> Result<u64, SqlError> {
    let mut text = next_value_text(p, clause)?;
    if let Token::Word(w) = &p.peek_token_ref().token
        && w.quote_style.is_none()
        && unit_seconds(&w.value).is_some()
    {
        text.push_str(&w.value);
        p.advance_token();
    }
    duration_seconds(&text).ok_or_else(|| SqlError::invalid(format!("Invalid {clause} value")))
}

fn unit_seconds(unit: &str) -> Option<u64> {
    match unit.to_ascii_lowercase().as_str() {
        "" | "s" | "sec" | "secs" | "second" | "seconds" => Some(1),
        "m" | "min" | "mins" | "minute" | "minutes" => Some(60),
        "h" | "hour" | "hours" => Some(3600),
        "d" | "day" | "days" => Some(86_400),
        _ => None,
    }
}

/// `<digits>[ ]<unit>` → seconds; `None` unless positive and well-formed.
fn duration_seconds(text: &str) -> Option<u64> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let amount = digits.parse::<u64>().ok()?;
    let seconds = amount.checked_mul(unit_seconds(unit.trim())?)?;
    (seconds >= 1).then_some(seconds)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn durations_accept_units_and_reject_non_positive() {
        assert_eq!(duration_seconds("60"), Some(60));
        assert_eq!(duration_seconds("60s"), Some(60));
        assert_eq!(duration_seconds("5m"), Some(300));
        assert_eq!(duration_seconds("1h"), Some(3600));
        assert_eq!(duration_seconds(" 1d "), Some(86_400));
        assert_eq!(duration_seconds("10 SECONDS"), Some(10));
        assert_eq!(duration_seconds("0"), None);
        assert_eq!(duration_seconds("0s"), None);
        assert_eq!(duration_seconds("-5"), None);
        assert_eq!(duration_seconds("5x"), None);
        assert_eq!(duration_seconds("1.5h"), None);
        assert_eq!(duration_seconds("h"), None);
        assert_eq!(duration_seconds("99999999999999999999d"), None);
    }

    #[test]
    fn flush_policy_strings() {
        let policy = |r, i| FlushPolicy {
            rows: r,
            interval_secs: i,
        };
        assert_eq!(
            parse_flush_policy("rows:100").unwrap(),
            policy(Some(100), None)
        );
        assert_eq!(
            parse_flush_policy("interval:60").unwrap(),
            policy(None, Some(60))
        );
        assert_eq!(
            parse_flush_policy("ROWS:100, interval:60").unwrap(),
            policy(Some(100), Some(60))
        );
        assert_eq!(
            parse_flush_policy("interval:60,rows:100").unwrap(),
            policy(Some(100), Some(60))
        );
        for bad in [
            "",
            "rows",
            "rows:0",
            "rows:-1",
            "rows:x",
            "bytes:5",
            "rows:1,rows:2",
            "rows:1,",
        ] {
            assert_eq!(
                parse_flush_policy(bad).unwrap_err().message,
                format!("Invalid FLUSH_POLICY '{bad}': expected rows:N,interval:S"),
                "{bad}"
            );
        }
    }
}
