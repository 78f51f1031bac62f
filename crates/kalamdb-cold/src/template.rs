//! Path templates (`sql.md` §4.2): where a table partition's segments live
//! inside a storage. Templates are user input, so they are checked once,
//! when a storage is defined or altered, such that every rendering stays
//! inside the storage root: placeholders are replaced by validated names
//! (letters, digits, `_`, `-`: never `/` or `.`), and the literal parts may
//! not contain `..`, `.`, empty segments, a leading `/` or a backslash.

use kalamdb_types::{NamespaceId, TableName, UserId};

use crate::error::ColdError;

pub const DEFAULT_SHARED_TEMPLATE: &str = "{namespace}/{tableName}";
pub const DEFAULT_USER_TEMPLATE: &str = "{namespace}/{tableName}/{userId}";

const PLACEHOLDERS: [&str; 3] = ["namespace", "tableName", "userId"];
const USER_PLACEHOLDER: &str = "{userId}";

/// Checks a path template: only the known placeholders, `{userId}` present
/// in user-table templates and absent from shared ones, and nothing that
/// could name a path outside the storage root.
pub fn validate_template(template: &str, for_user_tables: bool) -> Result<(), ColdError> {
    let bad = |m: String| Err(ColdError::InvalidStorage(m));
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        if rest.get(..open).unwrap_or_default().contains('}') {
            return bad(format!("Unbalanced '}}' in template '{template}'"));
        }
        let after = rest.get(open + 1..).unwrap_or_default();
        let Some(close) = after.find('}') else {
            return bad(format!("Unterminated placeholder in template '{template}'"));
        };
        let name = after.get(..close).unwrap_or_default();
        if !PLACEHOLDERS.contains(&name) {
            return bad(format!("Unknown placeholder '{{{name}}}' in template"));
        }
        rest = after.get(close + 1..).unwrap_or_default();
    }
    if rest.contains('}') {
        return bad(format!("Unbalanced '}}' in template '{template}'"));
    }
    let has_user = template.contains(USER_PLACEHOLDER);
    if for_user_tables && !has_user {
        return bad("USER_TABLES_TEMPLATE must contain {userId}".into());
    }
    if !for_user_tables && has_user {
        return bad("SHARED_TABLES_TEMPLATE must not contain {userId}".into());
    }
    let escapes = template.starts_with('/')
        || template.contains('\\')
        || template
            .split('/')
            .any(|seg| seg.is_empty() || seg == "." || seg == "..");
    if escapes {
        return bad(format!(
            "Invalid template '{template}': segments must be non-empty, relative, without '.' or '..'"
        ));
    }
    // Literal text is limited to characters that mean the same on every
    // filesystem and in every object store key.
    let literal_ok = |c: char| c.is_ascii_alphanumeric() || "_-./{}".contains(c);
    if let Some(c) = template.chars().find(|c| !literal_ok(*c)) {
        return bad(format!(
            "Invalid character '{}' in template '{template}'",
            c.escape_default()
        ));
    }
    Ok(())
}

/// Fills a validated template. The result is a relative path with
/// `/`-separated segments, inside the storage by construction.
///
/// `user` is `None` for shared tables. A user-table template rendered
/// without a user keeps its `{userId}` text: a caller bug made visible in
/// the path rather than a guess at a directory.
pub fn render_template(
    template: &str,
    ns: &NamespaceId,
    table: &TableName,
    user: Option<&UserId>,
) -> String {
    let rendered = template
        .replace("{namespace}", ns.as_str())
        .replace("{tableName}", table.as_str());
    match user {
        Some(u) => rendered.replace(USER_PLACEHOLDER, u.as_str()),
        None => rendered,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn err(t: &str, user: bool) -> String {
        validate_template(t, user).unwrap_err().to_string()
    }

    #[test]
    fn defaults_and_custom_templates_are_valid() {
        validate_template(DEFAULT_SHARED_TEMPLATE, false).unwrap();
        validate_template(DEFAULT_USER_TEMPLATE, true).unwrap();
        validate_template("shared/{namespace}/{tableName}", false).unwrap();
        validate_template("users/{userId}/{namespace}/{tableName}", true).unwrap();
        validate_template("v1.0/u_{userId}-x/{tableName}", true).unwrap();
        // No placeholder at all is allowed for shared tables: every table
        // then shares one directory (and DROP TABLE does not sweep it).
        validate_template("everything", false).unwrap();
    }

    #[test]
    fn spec_messages() {
        assert_eq!(
            err("{namespace}/{table}", false),
            "Unknown placeholder '{table}' in template"
        );
        assert_eq!(err("{}", false), "Unknown placeholder '{}' in template");
        assert_eq!(
            err("{namespace}/{tableName}", true),
            "USER_TABLES_TEMPLATE must contain {userId}"
        );
        assert_eq!(
            err("{userId}/{tableName}", false),
            "SHARED_TABLES_TEMPLATE must not contain {userId}"
        );
        assert_eq!(
            err("../{namespace}/{tableName}", false),
            "Invalid template '../{namespace}/{tableName}': segments must be non-empty, relative, without '.' or '..'"
        );
    }

    #[test]
    fn traversal_and_odd_characters_are_refused() {
        for t in [
            "..",
            "../{tableName}",
            "a/../../{tableName}",
            "{namespace}/..",
            "./{tableName}",
            "/abs/{tableName}",
            "/",
            "",
            "a//{tableName}",
            "a/",
            "a\\..\\{tableName}",
            "a\\b",
            "{namespace",
            "namespace}",
            "{name{space}",
            "a b/{tableName}",
            "a%2e%2e/{tableName}",
            "~/{tableName}",
            "a:b/{tableName}",
            "a\n/{tableName}",
            "é/{tableName}",
        ] {
            assert!(validate_template(t, false).is_err(), "{t:?} accepted");
            let as_user = format!("{t}/{{userId}}");
            assert!(validate_template(&as_user, true).is_err(), "{as_user:?}");
        }
    }

    #[test]
    fn rendering() {
        let ns = NamespaceId::parse("app").unwrap();
        let t = TableName::parse("notes").unwrap();
        let u = UserId::parse("alice-1").unwrap();
        assert_eq!(
            render_template(DEFAULT_USER_TEMPLATE, &ns, &t, Some(&u)),
            "app/notes/alice-1"
        );
        assert_eq!(
            render_template(DEFAULT_SHARED_TEMPLATE, &ns, &t, None),
            "app/notes"
        );
        assert_eq!(
            render_template("u/{userId}/{userId}/{tableName}", &ns, &t, Some(&u)),
            "u/alice-1/alice-1/notes"
        );
        assert_eq!(
            render_template(DEFAULT_USER_TEMPLATE, &ns, &t, None),
            "app/notes/{userId}"
        );
    }

    #[test]
    fn renderings_of_valid_templates_stay_inside_the_root() {
        // Names are validated by kalamdb-types; whatever a valid template
        // and valid names give is a clean relative path.
        let ns = NamespaceId::parse("n_1").unwrap();
        let t = TableName::parse("T2").unwrap();
        for user in ["a", "A-b_9", "-", "_", "--x"] {
            let u = UserId::parse(user).unwrap();
            for tpl in [
                DEFAULT_USER_TEMPLATE,
                "{userId}",
                "x/{userId}.d/{tableName}",
            ] {
                validate_template(tpl, true).unwrap();
                let p = render_template(tpl, &ns, &t, Some(&u));
                assert!(
                    object_store::path::Path::parse(&p).is_ok()
                        && !p.starts_with('/')
                        && p.split('/').all(|s| !s.is_empty() && s != "." && s != ".."),
                    "{tpl} with {user} gave {p}"
                );
            }
        }
    }
}
