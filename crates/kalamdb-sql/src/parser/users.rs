//! `CREATE USER`, `ALTER USER`, `DROP USER` (`sql.md` §5).
//!
//! User names differ from object names: they keep their case and may contain `-`, so they
//! are read with [`parse_user_name`] and checked against `UserId`'s alphabet, never folded.

use kalamdb_types::Role;
use sqlparser::keywords::Keyword;
use sqlparser::parser::Parser;

use super::cursor::{ParserExt, expected, parse_word_or_string, set_once};
use super::names::parse_user_name;
use crate::error::SqlError;
use crate::statement::{AlterUserChange, KalamStatement};

/// A role name or alias, bare or quoted.
fn parse_role(p: &mut Parser) -> Result<Role, SqlError> {
    let text = parse_word_or_string(p, "a role")?;
    Role::parse(&text).ok_or_else(|| {
        SqlError::invalid(format!(
            "Invalid role '{text}'. Valid roles: user, service, dba, system"
        ))
    })
}

/// After `CREATE USER`: `name WITH [INTERNAL] PASSWORD 'p' ROLE r [EMAIL 'e']`, the
/// settings in any order. ROLE defaults to `user`.
pub(crate) fn parse_create_user(p: &mut Parser) -> Result<KalamStatement, SqlError> {
    let name = parse_user_name(p)?;
    p.expect_keyword_is(Keyword::WITH)?;
    let internal = p.parse_word("INTERNAL");
    let (mut password, mut role, mut email) = (None, None, None);
    loop {
        if p.parse_keyword(Keyword::PASSWORD) {
            set_once(&mut password, p.parse_literal_string()?, "PASSWORD")?;
        } else if p.parse_keyword(Keyword::ROLE) {
            set_once(&mut role, parse_role(p)?, "ROLE")?;
        } else if p.parse_word("EMAIL") {
            set_once(&mut email, p.parse_literal_string()?, "EMAIL")?;
        } else {
            break;
        }
    }
    match (internal, &password) {
        (true, Some(_)) => {
            return Err(SqlError::invalid(
                "A user created WITH INTERNAL ROLE cannot have a PASSWORD",
            ));
        }
        (false, None) => {
            return Err(expected(p, "PASSWORD or INTERNAL ROLE", p.peek_token_ref()));
        }
        _ => {}
    }
    Ok(KalamStatement::CreateUser {
        name,
        password,
        role: role.unwrap_or(Role::User),
        email,
    })
}

/// After `ALTER USER`: `name SET PASSWORD 'p' | SET ROLE r | SET EMAIL 'e'`.
pub(crate) fn parse_alter_user(p: &mut Parser) -> Result<KalamStatement, SqlError> {
    let name = parse_user_name(p)?;
    p.expect_keyword_is(Keyword::SET)?;
    let change = if p.parse_keyword(Keyword::PASSWORD) {
        AlterUserChange::Password(p.parse_literal_string()?)
    } else if p.parse_keyword(Keyword::ROLE) {
        AlterUserChange::Role(parse_role(p)?)
    } else if p.parse_word("EMAIL") {
        AlterUserChange::Email(p.parse_literal_string()?)
    } else {
        return Err(expected(p, "PASSWORD, ROLE or EMAIL", p.peek_token_ref()));
    };
    Ok(KalamStatement::AlterUser { name, change })
}

/// After `DROP USER`: `[IF EXISTS] name`.
pub(crate) fn parse_drop_user(p: &mut Parser) -> Result<KalamStatement, SqlError> {
    let if_exists = p.parse_keywords(&[Keyword::IF, Keyword::EXISTS]);
    let name = parse_user_name(p)?;
    Ok(KalamStatement::DropUser { name, if_exists })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::{SqlErrorKind, parse_statement};

    fn parse(sql: &str) -> KalamStatement {
        parse_statement(sql).unwrap_or_else(|e| panic!("{sql}: {e:?}"))
    }

    fn error(sql: &str) -> SqlError {
        match parse_statement(sql) {
            Err(e) => e,
            Ok(stmt) => panic!("{sql} parsed: {stmt:?}"),
        }
    }

    fn user(name: &str, password: Option<&str>, role: Role, email: Option<&str>) -> KalamStatement {
        KalamStatement::CreateUser {
            name: name.into(),
            password: password.map(Into::into),
            role,
            email: email.map(Into::into),
        }
    }

    #[test]
    fn create_user_forms() {
        assert_eq!(
            parse("CREATE USER alice WITH PASSWORD 'S3cret!pw' ROLE dba EMAIL 'a@b.c'"),
            user("alice", Some("S3cret!pw"), Role::Dba, Some("a@b.c"))
        );
        // Names keep their case, bare or quoted; `-` works bare.
        assert_eq!(
            parse("create user Alice with password 'p' role USER"),
            user("Alice", Some("p"), Role::User, None)
        );
        assert_eq!(
            parse("CREATE USER \"Bob_2\" WITH PASSWORD 'p' ROLE 'service'"),
            user("Bob_2", Some("p"), Role::Service, None)
        );
        assert_eq!(
            parse("CREATE USER 'svc-01' WITH PASSWORD 'p' ROLE admin"),
            user("svc-01", Some("p"), Role::Dba, None)
        );
        assert_eq!(
            parse("CREATE USER svc-01 WITH ROLE analyst PASSWORD 'p'"),
            user("svc-01", Some("p"), Role::Service, None)
        );
        assert_eq!(
            parse("CREATE USER worker WITH INTERNAL ROLE system EMAIL 'w@x.y'"),
            user("worker", None, Role::System, Some("w@x.y"))
        );
        assert_eq!(
            parse("CREATE USER u WITH PASSWORD 'p'"),
            user("u", Some("p"), Role::User, None)
        );
    }

    #[test]
    fn create_user_errors() {
        let err = error("CREATE USER alice WITH PASSWORD 'p' ROLE superuser");
        assert_eq!(err.kind, SqlErrorKind::Invalid);
        assert_eq!(
            err.message,
            "Invalid role 'superuser'. Valid roles: user, service, dba, system"
        );
        let err = error("CREATE USER \"a b\" WITH PASSWORD 'p' ROLE user");
        assert_eq!(
            (err.kind, err.message.as_str()),
            (SqlErrorKind::Invalid, "Invalid user name 'a b'")
        );
        assert_eq!(
            error("CREATE USER 'a/b' WITH PASSWORD 'p'").message,
            "Invalid user name 'a/b'"
        );
        assert_eq!(
            error("CREATE USER w WITH INTERNAL PASSWORD 'p' ROLE user").message,
            "A user created WITH INTERNAL ROLE cannot have a PASSWORD"
        );
        assert_eq!(
            error("CREATE USER w WITH ROLE user").kind,
            SqlErrorKind::Parse
        );
        assert_eq!(
            error("CREATE USER w PASSWORD 'p'").kind,
            SqlErrorKind::Parse
        );
        assert_eq!(
            error("CREATE USER w WITH PASSWORD 'p' ROLE user ROLE dba").message,
            "Duplicate option ROLE"
        );
        assert_eq!(
            error("CREATE USER w WITH PASSWORD 'p' ROLE user SUPER").kind,
            SqlErrorKind::Parse
        );
    }

    #[test]
    fn alter_and_drop_user() {
        let alter = |name: &str, change| KalamStatement::AlterUser {
            name: name.into(),
            change,
        };
        assert_eq!(
            parse("ALTER USER alice SET PASSWORD 'new-pass'"),
            alter("alice", AlterUserChange::Password("new-pass".into()))
        );
        assert_eq!(
            parse("alter user 'Bob' set role readonly"),
            alter("Bob", AlterUserChange::Role(Role::User))
        );
        assert_eq!(
            parse("ALTER USER alice SET EMAIL 'x@y.z'"),
            alter("alice", AlterUserChange::Email("x@y.z".into()))
        );
        assert_eq!(
            error("ALTER USER alice SET ROLE boss").message,
            "Invalid role 'boss'. Valid roles: user, service, dba, system"
        );
        assert_eq!(
            error("ALTER USER alice SET NAME 'x'").kind,
            SqlErrorKind::Parse
        );
        assert_eq!(
            parse("DROP USER IF EXISTS carol-9"),
            KalamStatement::DropUser {
                name: "carol-9".into(),
                if_exists: true
            }
        );
        assert_eq!(
            parse("DROP USER 'Dave'"),
            KalamStatement::DropUser {
                name: "Dave".into(),
                if_exists: false
            }
        );
    }
}
