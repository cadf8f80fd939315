//! A column's declared type: how type names, PostgreSQL OIDs and MySQL type codes map to families,
//! and what the rules' `[column_types]` set aside.

use classifier::{ColumnRef, ColumnType, Engine, EngineBuilder, Error, Reason, classify_jsonl, compute_signals};

fn engine() -> Engine {
    Engine::with_default_rules().unwrap_or_else(|error| panic!("{error}"))
}

fn classify_typed<'e>(engine: &'e Engine, table: &str, column: &str, declared: &str) -> Option<&'e str> {
    let column_type = ColumnType::from_declared(declared);
    assert!(column_type.is_some(), "{declared:?} has a family");
    engine.classify(&ColumnRef::new(table, column).with_type(column_type), None).entity
}

#[test]
fn declared_type_names_map_to_families() {
    let cases = [
        ("varchar(255)", ColumnType::Text),
        ("character varying(255)", ColumnType::Text),
        ("character_varying(255)", ColumnType::Text),
        ("CHARACTER VARYING", ColumnType::Text),
        ("string", ColumnType::Text),
        ("public.citext", ColumnType::Text),
        ("enum('a','b')", ColumnType::Text),
        ("text[]", ColumnType::Text),
        ("boolean", ColumnType::Boolean),
        ("tinyint(1)", ColumnType::Boolean),
        ("TINYINT(1) UNSIGNED", ColumnType::Boolean),
        ("tinyint(4)", ColumnType::Integer),
        ("int(10) unsigned", ColumnType::Integer),
        ("bigint", ColumnType::Integer),
        ("references", ColumnType::Integer),
        ("serial", ColumnType::Integer),
        ("numeric(10,2)", ColumnType::Decimal),
        ("double precision", ColumnType::Decimal),
        ("date", ColumnType::Date),
        ("datetime", ColumnType::Timestamp),
        ("timestamp without time zone", ColumnType::Timestamp),
        ("timestamp_without_time_zone", ColumnType::Timestamp),
        ("timestamp(6) with time zone", ColumnType::Timestamp),
        ("time", ColumnType::Time),
        ("interval", ColumnType::Time),
        ("uuid", ColumnType::Uuid),
        ("inet", ColumnType::Inet),
        ("macaddr", ColumnType::MacAddr),
        ("jsonb", ColumnType::Json),
        ("bytea", ColumnType::Binary),
        ("longblob", ColumnType::Binary),
        ("geography(Point,4326)", ColumnType::Other),
        ("tsvector", ColumnType::Other),
        ("int(10)_unsigned", ColumnType::Integer),
        ("bigint(20) unsigned zerofill", ColumnType::Integer),
        ("varchar(255)_binary", ColumnType::Text),
        ("double_precision", ColumnType::Decimal),
        ("time_without_time_zone", ColumnType::Time),
        ("character_varying(255)[]", ColumnType::Text),
        ("_int4", ColumnType::Integer),
        ("national character varying(40)", ColumnType::Text),
        ("\"char\"", ColumnType::Text),
        ("enum('v1.0','v2.0')", ColumnType::Text),
        ("set('a.b')", ColumnType::Text),
        ("bit", ColumnType::Boolean),
        ("bit(1)", ColumnType::Boolean),
        ("bit(8)", ColumnType::Binary),
        ("bit varying(16)", ColumnType::Binary),
        ("varbit", ColumnType::Binary),
        // ORMs' and schema tools' names, for the database types they create.
        ("charfield", ColumnType::Text),
        ("emailfield", ColumnType::Text),
        ("foreignkey", ColumnType::Integer),
        ("booleanfield", ColumnType::Boolean),
        ("datetimefield", ColumnType::Timestamp),
        ("genericipaddressfield", ColumnType::Inet),
        ("uuidfield", ColumnType::Uuid),
        ("unsignedinteger", ColumnType::Integer),
        ("increments", ColumnType::Integer),
        ("ipaddress", ColumnType::Inet),
        // A UUID's text form.
        ("char(36)", ColumnType::Uuid),
        ("varchar(36)", ColumnType::Uuid),
        ("character varying(36)", ColumnType::Uuid),
        ("varchar(35)", ColumnType::Text),
        ("unsigneddecimal", ColumnType::Decimal),
        ("bigprimarykey", ColumnType::Integer),
        ("ubigpk", ColumnType::Integer),
        ("C2", ColumnType::Text),
        ("I8", ColumnType::Integer),
        ("X", ColumnType::Text),
        ("L", ColumnType::Boolean),
        ("T", ColumnType::Timestamp),
        ("id-long", ColumnType::Text),
        ("date-time", ColumnType::Timestamp),
        ("indicator", ColumnType::Boolean),
        ("int3", ColumnType::Integer),
        ("mediumserial", ColumnType::Integer),
        ("bytes", ColumnType::Binary),
        // Odoo, Frappe, Ecto, Go and Java, Hibernate and OpenSlides: one word or several.
        ("many2one", ColumnType::Integer),
        ("selection", ColumnType::Text),
        ("link", ColumnType::Text),
        ("read_only", ColumnType::Text),
        ("small_text", ColumnType::Text),
        ("Attach Image", ColumnType::Text),
        ("check", ColumnType::Boolean),
        ("binary_id", ColumnType::Uuid),
        ("naive_datetime", ColumnType::Timestamp),
        ("utc_datetime_usec", ColumnType::Timestamp),
        ("map", ColumnType::Json),
        ("int64", ColumnType::Integer),
        ("timeutil.TimeStamp", ColumnType::Timestamp),
        // Go's `time.Time` is an instant; SQL's bare `time` stays a time of day.
        ("time.Time", ColumnType::Timestamp),
        ("*time.Time", ColumnType::Timestamp),
        ("sql.NullTime", ColumnType::Timestamp),
        ("java.lang.String", ColumnType::Text),
        ("long", ColumnType::Integer),
        ("many-to-one", ColumnType::Integer),
        ("relation", ColumnType::Integer),
        ("HTMLStrict", ColumnType::Text),
        // Types a database defines are not read as the built-in type their name starts with.
        ("date_range", ColumnType::Other),
        ("text_search", ColumnType::Other),
        ("inet_aton", ColumnType::Other),
    ];
    for (declared, family) in cases {
        assert_eq!(ColumnType::from_declared(declared), Some(family), "{declared:?}");
    }
    assert_eq!(ColumnType::from_declared(""), None);
    assert_eq!(ColumnType::from_declared("   "), None);
    for (index, family) in ColumnType::ALL.into_iter().enumerate() {
        assert_eq!(ColumnType::from_name(family.name()), Some(family));
        assert_eq!(family.index(), index);
    }
}

#[test]
fn wire_type_codes_map_to_families() {
    assert_eq!(ColumnType::from_postgres_oid(16), Some(ColumnType::Boolean));
    assert_eq!(ColumnType::from_postgres_oid(23), Some(ColumnType::Integer));
    assert_eq!(ColumnType::from_postgres_oid(1043), Some(ColumnType::Text));
    assert_eq!(ColumnType::from_postgres_oid(1114), Some(ColumnType::Timestamp));
    assert_eq!(ColumnType::from_postgres_oid(869), Some(ColumnType::Inet));
    assert_eq!(ColumnType::from_postgres_oid(2950), Some(ColumnType::Uuid));
    assert_eq!(ColumnType::from_postgres_oid(3802), Some(ColumnType::Json));
    // A type an installation defined (an enum, a domain) has an OID of its own.
    assert_eq!(ColumnType::from_postgres_oid(16_385), None);
    assert_eq!(ColumnType::from_mysql_type(3, Some(11)), Some(ColumnType::Integer));
    assert_eq!(ColumnType::from_mysql_type(253, Some(800)), Some(ColumnType::Text));
    assert_eq!(ColumnType::from_mysql_type(252, None), Some(ColumnType::Text));
    assert_eq!(ColumnType::from_mysql_type(12, Some(19)), Some(ColumnType::Timestamp));
    assert_eq!(ColumnType::from_mysql_type(246, Some(12)), Some(ColumnType::Decimal));
    assert_eq!(ColumnType::from_mysql_type(200, None), None);
    // BOOLEAN is a TINYINT one wide; a wider TINYINT is a number.
    assert_eq!(ColumnType::from_mysql_type(1, Some(1)), Some(ColumnType::Boolean));
    assert_eq!(ColumnType::from_mysql_type(1, Some(4)), Some(ColumnType::Integer));
}

#[test]
fn a_type_sets_aside_what_it_cannot_hold() {
    let engine = engine();
    // A flag about an address is not one.
    assert_eq!(engine.classify(&ColumnRef::new("petitions", "notified_by_email"), None).entity, Some("EMAIL_ADDRESS"));
    assert_eq!(classify_typed(&engine, "petitions", "notified_by_email", "boolean"), None);
    assert_eq!(classify_typed(&engine, "petitions", "notified_by_email", "tinyint(1)"), None);
    // The reasons say why.
    let flag = engine.classify(
        &ColumnRef::new("petitions", "notified_by_email").with_type(Some(ColumnType::Boolean)),
        None,
    );
    assert!(
        flag.reasons.iter().any(|reason| matches!(
            reason,
            Reason::ColumnType { column_type: ColumnType::Boolean, set_aside: "EMAIL_ADDRESS" }
        )),
        "{:?}",
        flag.reasons
    );
    let shown = serde_json::to_string(&flag.reasons).unwrap_or_default();
    assert!(shown.contains(r#"{"kind":"column_type","column_type":"boolean","set_aside":"EMAIL_ADDRESS"}"#), "{shown}");
    // A text column keeps what its name says; so does a column of unknown type.
    assert_eq!(classify_typed(&engine, "users", "email", "varchar(255)"), Some("EMAIL_ADDRESS"));
    assert_eq!(engine.classify(&ColumnRef::new("users", "email").with_type(None), None).entity, Some("EMAIL_ADDRESS"));
    // A login kept as text in an audit column is one; the same name holding a key is not.
    assert_eq!(classify_typed(&engine, "forms", "user", "varchar(255)"), Some("USERNAME"));
    assert_eq!(classify_typed(&engine, "forms", "user", "bigint"), None);
    // Yes/no answers about health and special categories stay personal.
    assert_eq!(classify_typed(&engine, "patients", "diabetes", "boolean"), engine.classify(&ColumnRef::new("patients", "diabetes"), None).entity);
    assert_eq!(classify_typed(&engine, "patients", "ethnicity", "boolean"), Some("ETHNIC_GROUP"));
    // Numbers can be phone numbers, postal codes and years of birth.
    assert_eq!(classify_typed(&engine, "customers", "phone", "bigint"), Some("PHONE_NUMBER"));
    assert_eq!(classify_typed(&engine, "customers", "zip", "integer"), Some("ZIPCODE"));
    assert_eq!(classify_typed(&engine, "customers", "birth_year", "integer"), Some("DATE_OF_BIRTH"));
    // A date is a birth date, never a name; a network address is an IP address, never a street.
    assert_eq!(classify_typed(&engine, "people", "birthday", "date"), Some("DATE_OF_BIRTH"));
    assert_eq!(classify_typed(&engine, "users", "address", "inet"), None);
    assert_eq!(classify_typed(&engine, "users", "last_ip", "inet"), Some("IP_ADDRESS"));
    // Numbers kept as NUMERIC without decimals are still numbers of a person.
    assert_eq!(classify_typed(&engine, "customers", "phone", "numeric(15,0)"), Some("PHONE_NUMBER"));
    assert_eq!(classify_typed(&engine, "customers", "card_number", "decimal(19,0)"), Some("CREDIT_CARD"));
    assert_eq!(classify_typed(&engine, "customers", "email", "numeric"), None);
    // Bytes and documents can hold anything: an encrypted email is still one.
    assert_eq!(classify_typed(&engine, "users", "encrypted_email", "bytea"), engine.classify(&ColumnRef::new("users", "encrypted_email"), None).entity);
    // Values cannot bring back what the type sets aside.
    let emails = compute_signals(["a@example.com", "b@example.org", "c@example.net"].into_iter());
    let flag = engine.classify(
        &ColumnRef::new("petitions", "notified_by_email").with_type(Some(ColumnType::Boolean)),
        Some(&emails),
    );
    assert_eq!(flag.entity, None);
}

#[test]
fn json_lines_carry_a_declared_type() {
    let input = concat!(
        r#"{"table": "petitions", "column": "notified_by_email", "type": "boolean"}"#,
        "\n",
        r#"{"table": "petitions", "column": "creator_email", "type": "character varying(255)"}"#,
        "\n",
        r#"{"table": "petitions", "column": "notified_by_email"}"#,
        "\n",
        r#"{"table": "petitions", "column": "contact_email", "type": ""}"#,
        "\n",
    );
    let mut output = Vec::new();
    let summary = classify_jsonl(input.as_bytes(), &mut output, &engine()).unwrap_or_else(|error| panic!("{error}"));
    assert_eq!((summary.columns, summary.errors), (4, 0));
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&output)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|error| panic!("{line}: {error}")))
        .collect();
    let entities: Vec<&serde_json::Value> = lines.iter().map(|line| &line["entity"]).collect();
    assert_eq!(entities, [&serde_json::Value::Null, &serde_json::json!("EMAIL_ADDRESS"), &serde_json::json!("EMAIL_ADDRESS"), &serde_json::json!("EMAIL_ADDRESS")]);
    assert_eq!(lines[0]["reasons"].as_array().and_then(|reasons| reasons.last()).map(|reason| reason["kind"].clone()), Some(serde_json::json!("column_type")));
}

fn rules_error(text: &str) -> String {
    match EngineBuilder::new().rules_text("types.toml", text).and_then(EngineBuilder::build) {
        Err(Error::Rules { origin, message, .. }) => {
            assert_eq!(origin, "types.toml");
            message
        }
        Err(other) => panic!("unexpected {other}"),
        Ok(_) => panic!("accepted {text}"),
    }
}

#[test]
fn column_types_in_a_user_rules_file() {
    let message = rules_error("[column_types.varchar]\nholds = []\n");
    assert!(message.contains("column type \"varchar\" is not one of text, integer"), "{message}");
    let message = rules_error("[column_types.boolean]\nholds = [\"SHOE_SIZE\"]\n");
    assert!(message.contains("column type boolean: unknown entity \"SHOE_SIZE\""), "{message}");
    // A user file replaces what a family holds: here a JSON column can hold no email.
    let engine = EngineBuilder::new()
        .rules_text("site.toml", "[column_types.json]\nholds = [\"MEDICAL_CONDITION\"]\n")
        .and_then(EngineBuilder::build)
        .unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(classify_typed(&engine, "users", "email", "jsonb"), None);
    assert_eq!(classify_typed(&engine, "users", "email", "text"), Some("EMAIL_ADDRESS"));
    // An entity a user file adds is not restricted by a type unless a family names it.
    let engine = EngineBuilder::new()
        .rules_text(
            "site.toml",
            "[entities]\nEMPLOYEE_NUMBER = \"PII\"\nEMAIL_ADDRESS = \"PII\"\n\n[[rule]]\nid = \"site.employee\"\n\
             entity = \"EMPLOYEE_NUMBER\"\nnames = [\"employee number\"]\n",
        )
        .and_then(EngineBuilder::build)
        .unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(classify_typed(&engine, "staff", "employee_number", "integer"), Some("EMPLOYEE_NUMBER"));
    // A built-in entity the file declares again keeps its restrictions.
    assert_eq!(classify_typed(&engine, "petitions", "notified_by_email", "boolean"), None);
}

#[test]
fn a_role_word_is_a_login_when_it_is_text() {
    let engine = engine();
    assert_eq!(classify_typed(&engine, "contacts", "editor", "text"), Some("USERNAME"));
    assert_eq!(classify_typed(&engine, "admin_log", "admin_user", "character varying(255)"), Some("USERNAME"));
    assert_eq!(classify_typed(&engine, "bs_requests", "creator", "varchar(255)"), Some("USERNAME"));
    // Run together (`recyclebin.deletedby`).
    assert_eq!(classify_typed(&engine, "recyclebin", "deletedby", "varchar(50)"), Some("USERNAME"));
    assert_eq!(classify_typed(&engine, "recyclebin", "deletedby", "int(11)"), None);
    // A number under the same name is a key; with the type unknown nothing is claimed.
    assert_eq!(classify_typed(&engine, "contacts", "editor", "integer"), None);
    assert_eq!(classify_typed(&engine, "tickets", "created_by", "bigint"), None);
    assert_eq!(engine.classify(&ColumnRef::new("contacts", "editor"), None).entity, None);
    // A rule's type must be a known family.
    let message = rules_error(
        "[[rule]]\nid = \"r\"\nentity = \"USERNAME\"\nnames = [\"x\"]\nwhen_type = [\"varchar\"]\n",
    );
    assert!(message.contains("rule r: column type \"varchar\" is not one of"), "{message}");
}

#[test]
fn a_verification_key_kept_as_text_on_a_persons_row_is_a_credential() {
    let engine = engine();
    assert_eq!(classify_typed(&engine, "CubeCart_customer", "verify", "varchar(32)"), Some("API_KEY"));
    assert_eq!(classify_typed(&engine, "newsletter_subscribers", "validation", "varchar(50)"), Some("API_KEY"));
    // A flag under the same name, or a form's validation rules, are not.
    assert_eq!(classify_typed(&engine, "CubeCart_customer", "verify", "tinyint(1)"), None);
    assert_eq!(classify_typed(&engine, "form_fields", "validation", "text"), None);
}

#[test]
fn an_analytics_visitor_cookie_with_the_identifier_first_is_a_device_and_excluded_ips_are_not_a_persons() {
    let engine = engine();
    assert_eq!(classify_typed(&engine, "log_visit", "idvisitor", "binary(8)"), Some("DEVICE_ID"));
    assert_eq!(classify_typed(&engine, "log_visit", "id_visitor", "varchar(32)"), Some("DEVICE_ID"));
    // Kept as a number it is a key to the visitors' table.
    assert_eq!(classify_typed(&engine, "visits", "idvisitor", "int(10)"), None);
    assert_eq!(classify_typed(&engine, "site", "excluded_ips", "text"), None);
    assert_eq!(classify_typed(&engine, "site", "excluded_ips", "text"), classify_typed(&engine, "site", "allowed_ips", "text"));
}

#[test]
fn a_session_tables_id_kept_as_text_is_its_identifier() {
    let engine = engine();
    assert_eq!(classify_typed(&engine, "tblSessions", "id", "varchar(50)"), Some("API_KEY"));
    // A number there is a row's key.
    assert_eq!(classify_typed(&engine, "tblSessions", "id", "int(11)"), None);
    // A UUID there is the session's random identifier too (Keycloak's `USER_SESSION.ID`).
    assert_eq!(classify_typed(&engine, "USER_SESSION", "ID", "varchar(36)"), Some("API_KEY"));
    assert_eq!(classify_typed(&engine, "user_sessions", "id", "uuid"), Some("API_KEY"));
    // With a column of its own for the identifier, the `id` is the row's.
    let with_columns = |siblings: &[&str]| {
        let column = ColumnRef::new("sessions", "id")
            .with_siblings(engine.table_evidence(siblings.iter().copied()))
            .with_type(ColumnType::from_declared("varchar(50)"));
        engine.classify(&column, None).entity
    };
    assert_eq!(with_columns(&["id", "user_id", "last_access"]), Some("API_KEY"));
    assert_eq!(with_columns(&["id", "session_id", "user_id"]), None);
}

#[test]
fn a_remember_me_key_kept_as_text_is_a_credential() {
    let engine = engine();
    assert_eq!(classify_typed(&engine, "faquser", "remember_me", "varchar(150)"), Some("API_KEY"));
    assert_eq!(classify_typed(&engine, "users", "remember_me", "tinyint(1)"), None);
    assert_eq!(classify_typed(&engine, "users", "remember_me", "boolean"), None);
}

#[test]
fn a_login_kept_under_an_identifiers_name_is_a_login_when_it_is_text() {
    let engine = engine();
    assert_eq!(classify_typed(&engine, "egw_access_log", "loginid", "varchar(64)"), Some("USERNAME"));
    assert_eq!(classify_typed(&engine, "sessions", "login_id", "ascii(64)"), Some("USERNAME"));
    assert_eq!(classify_typed(&engine, "sessions", "login_id", "int(11)"), None);
}

#[test]
fn reset_keys_and_share_keys_kept_as_text_are_credentials() {
    let engine = engine();
    assert_eq!(classify_typed(&engine, "channel", "channel_passwd_reset", "char(255)"), Some("API_KEY"));
    assert_eq!(classify_typed(&engine, "users", "password_reset_key", "varchar(64)"), Some("API_KEY"));
    assert_eq!(classify_typed(&engine, "website", "share_id", "varchar(50)"), Some("API_KEY"));
    assert_eq!(classify_typed(&engine, "documents", "share_token", "text"), Some("API_KEY"));
    // When a reset happened, whether one is pending, and a key to a row of shares are not.
    assert_eq!(classify_typed(&engine, "users", "password_reset", "datetime"), None);
    assert_eq!(classify_typed(&engine, "users", "password_reset", "tinyint(1)"), None);
    assert_eq!(classify_typed(&engine, "share_recipients", "share_id", "bigint"), None);
    // Who a conversation went to, abbreviated.
    assert_eq!(classify_typed(&engine, "conv", "recips", "text"), Some("EMAIL_ADDRESS"));
}

#[test]
fn recipients_actors_and_verification_identifiers_kept_as_text_are_personal() {
    let engine = engine();
    assert_eq!(classify_typed(&engine, "weekly_reports", "recipients", "citext[]"), Some("EMAIL_ADDRESS"));
    assert_eq!(classify_typed(&engine, "alerts", "recipients", "varchar(255)"), Some("EMAIL_ADDRESS"));
    assert_eq!(classify_typed(&engine, "shield_rules_ip", "added_by", "varchar(255)"), Some("USERNAME"));
    assert_eq!(classify_typed(&engine, "Booking", "cancelledBy", "string"), Some("USERNAME"));
    assert_eq!(classify_typed(&engine, "VerificationToken", "identifier", "string"), Some("EMAIL_ADDRESS"));
    // A count of recipients, a recipients document, a key to who added a rule and a token's
    // numeric identifier are not.
    assert_eq!(classify_typed(&engine, "campaigns", "recipients", "integer"), None);
    assert_eq!(classify_typed(&engine, "notifications", "recipients", "jsonb"), None);
    assert_eq!(classify_typed(&engine, "shield_rules_ip", "added_by", "bigint"), None);
    assert_eq!(classify_typed(&engine, "VerificationToken", "identifier", "integer"), None);
    // An identifier outside a token table says nothing of an address.
    assert_eq!(classify_typed(&engine, "documents", "identifier", "text"), None);
}

#[test]
fn federated_identities_and_case_handlers_kept_as_text_are_personal() {
    let engine = engine();
    // A person's ActivityPub actor URL and Matrix id; a community's actor and a number are not.
    assert_eq!(classify_typed(&engine, "person", "actor_id", "varchar"), Some("USERNAME"));
    assert_eq!(classify_typed(&engine, "community", "actor_id", "varchar"), None);
    assert_eq!(classify_typed(&engine, "audits", "actor_id", "bigint"), None);
    assert_eq!(classify_typed(&engine, "person", "matrix_user_id", "text"), Some("USERNAME"));
    assert_eq!(classify_typed(&engine, "person", "matrix_user_id", "integer"), None);
    // Who handles a case, and a login run together.
    assert_eq!(classify_typed(&engine, "case_reports", "casework_officer", "character varying"), Some("USERNAME"));
    assert_eq!(classify_typed(&engine, "phplist_admin", "modifiedby", "varchar(25)"), Some("USERNAME"));
    assert_eq!(classify_typed(&engine, "case_reports", "responder", "integer"), None);
}

#[test]
fn a_session_a_confirmation_id_and_a_list_of_organizers_kept_as_text_are_personal() {
    let engine = engine();
    // A visitor's session identifier kept in a log, the random id of a confirmation link and the
    // people running an event, named in one column.
    assert_eq!(classify_typed(&engine, "smf_log_online", "session", "varchar(64)"), Some("API_KEY"));
    assert_eq!(classify_typed(&engine, "alerts", "confirm_id", "character varying(255)"), Some("API_KEY"));
    assert_eq!(classify_typed(&engine, "external_events", "organizers", "string"), Some("PERSON_NAME"));
    // Numbers under the same names are keys and counts; with the type unknown nothing is claimed.
    assert_eq!(classify_typed(&engine, "visits", "session", "integer"), None);
    assert_eq!(classify_typed(&engine, "alerts", "confirm_id", "integer"), None);
    assert_eq!(classify_typed(&engine, "events", "speakers", "integer"), None);
    assert_eq!(engine.classify(&ColumnRef::new("smf_log_online", "session"), None).entity, None);
    assert_eq!(engine.classify(&ColumnRef::new("external_events", "organizers"), None).entity, None);
    // A session table's own `session` column is left to the session rules.
    assert_eq!(classify_typed(&engine, "sessions", "session", "text"), None);
}

#[test]
fn a_key_tables_id_kept_as_text_is_the_key() {
    let engine = engine();
    assert_eq!(classify_typed(&engine, "api_key", "id", "varchar(32)"), Some("API_KEY"));
    // A number there is a row's key, and another table's text `id` is its own.
    assert_eq!(classify_typed(&engine, "api_key", "id", "int(11)"), None);
    assert_eq!(classify_typed(&engine, "products", "id", "varchar(32)"), None);
    // In a table whose references to other rows are text ids too (Prisma's cuids), the text `id`
    // is one more generated key; references kept as numbers change nothing.
    let token_id = |siblings: &[(&str, &str)]| {
        let evidence = engine.table_evidence(siblings.iter().map(|(name, declared)| (*name, ColumnType::from_declared(declared))));
        let column = ColumnRef::new("PersonalAccessToken", "id").with_siblings(evidence).with_type(ColumnType::from_declared("string"));
        engine.classify(&column, None).entity
    };
    assert_eq!(token_id(&[("id", "string"), ("userUid", "string"), ("token", "string")]), None);
    assert_eq!(token_id(&[("id", "string"), ("teamID", "string")]), None);
    assert_eq!(token_id(&[("id", "string"), ("owner_id", "int(11)"), ("label", "string")]), Some("API_KEY"));
    assert_eq!(token_id(&[("id", "string"), ("value", "string")]), Some("API_KEY"));
    // A bare `uid` is not a reference to another row.
    assert_eq!(token_id(&[("id", "string"), ("uid", "string")]), Some("API_KEY"));
}

#[test]
fn logins_under_an_identifiers_name_and_activation_codes_kept_as_text() {
    let engine = engine();
    // webERP keeps the login itself as `userid` in other tables; a number there is a key.
    assert_eq!(classify_typed(&engine, "audittrail", "userid", "varchar(20)"), Some("USERNAME"));
    assert_eq!(classify_typed(&engine, "audittrail", "userid", "int(11)"), None);
    assert_eq!(classify_typed(&engine, "departments", "authoriser", "varchar(20)"), Some("USERNAME"));
    // An account's activation code kept as text; a flag or a date is not one.
    assert_eq!(classify_typed(&engine, "ossn_users", "activation", "text"), Some("API_KEY"));
    assert_eq!(classify_typed(&engine, "ossn_users", "activation", "tinyint(1)"), None);
    assert_eq!(classify_typed(&engine, "ossn_users", "activation", "datetime"), None);
}

#[test]
fn user_references_kept_as_text_are_logins() {
    let engine = engine();
    // Matrix keeps every user as the text id `@alice:example.org`, wherever it points at one.
    assert_eq!(classify_typed(&engine, "devices", "user_id", "text"), Some("USERNAME"));
    assert_eq!(classify_typed(&engine, "ignored_users", "ignored_user_id", "text"), Some("USERNAME"));
    assert_eq!(classify_typed(&engine, "events", "sender", "text"), Some("USERNAME"));
    assert_eq!(classify_typed(&engine, "messu_messages", "user_to", "varchar(255)"), Some("USERNAME"));
    assert_eq!(classify_typed(&engine, "tiki_forums", "moderator", "varchar(200)"), Some("USERNAME"));
    // A number or a UUID under the same name is a key, as is a UUID kept as 36 characters.
    assert_eq!(classify_typed(&engine, "devices", "user_id", "bigint"), None);
    assert_eq!(classify_typed(&engine, "devices", "user_id", "uuid"), None);
    assert_eq!(classify_typed(&engine, "USER_ROLE_MAPPING", "USER_ID", "varchar(36)"), None);
    assert_eq!(classify_typed(&engine, "events", "sender", "int(11)"), None);
    // Without a type the name alone says nothing about it.
    assert_eq!(engine.classify(&ColumnRef::new("devices", "user_id"), None).entity, None);
    // Another service's account number is not a login here.
    assert_eq!(classify_typed(&engine, "founders", "slack_user_id", "string"), None);
    assert_eq!(classify_typed(&engine, "USER_SOCIAL_LINK", "SOCIAL_USER_ID", "varchar(255)"), None);
}

#[test]
fn a_user_id_kept_as_text_is_a_key_where_the_tables_own_id_is_text() {
    let engine = engine();
    let user_id = |siblings: &[(&str, &str)]| {
        let evidence = engine.table_evidence(siblings.iter().map(|(name, declared)| (*name, ColumnType::from_declared(declared))));
        let column = ColumnRef::new("polls", "user_id").with_siblings(evidence).with_type(ColumnType::from_declared("string"));
        engine.classify(&column, None)
    };
    // Rows keyed by a cuid (Prisma's `id String @id @default(cuid())`): a text `user_id` is a key.
    let keyed = user_id(&[("id", "string"), ("title", "string"), ("user_id", "string")]);
    assert_eq!(keyed.entity, None);
    assert!(
        keyed.reasons.iter().any(|reason| matches!(reason, Reason::TableColumns { added, .. } if added.contains(&"text_keys"))),
        "{:?}",
        keyed.reasons
    );
    assert_eq!(user_id(&[("ID", "varchar(36)"), ("USER_ID", "varchar(255)")]).entity, None);
    // Rows keyed by a number, or without a key of their own (Matrix's tables), keep the login.
    assert_eq!(user_id(&[("id", "bigint"), ("user_id", "text")]).entity, Some("USERNAME"));
    assert_eq!(user_id(&[("room_id", "text"), ("user_id", "text")]).entity, Some("USERNAME"));
    // A column other than the table's own `id` says nothing about its keys.
    assert_eq!(user_id(&[("poll_id", "text"), ("user_id", "text")]).entity, Some("USERNAME"));
    // Names without types say nothing about the key's type.
    let names_only = engine.table_evidence(["id", "title", "user_id"]);
    let column = ColumnRef::new("polls", "user_id").with_siblings(names_only).with_type(ColumnType::from_declared("text"));
    assert_eq!(engine.classify(&column, None).entity, Some("USERNAME"));
    // The same from JSON lines: a table's lines carry their types into its evidence.
    let input = concat!(
        r#"{"table": "polls", "column": "id", "type": "text"}"#,
        "\n",
        r#"{"table": "polls", "column": "user_id", "type": "text"}"#,
        "\n",
        r#"{"table": "devices", "column": "id", "type": "bigint"}"#,
        "\n",
        r#"{"table": "devices", "column": "user_id", "type": "text"}"#,
        "\n",
    );
    let mut output = Vec::new();
    classify_jsonl(input.as_bytes(), &mut output, &engine).unwrap_or_else(|error| panic!("{error}"));
    let entities: Vec<serde_json::Value> = String::from_utf8_lossy(&output)
        .lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap_or_else(|error| panic!("{line}: {error}"))["entity"].clone())
        .collect();
    assert_eq!(entities, [serde_json::Value::Null, serde_json::Value::Null, serde_json::Value::Null, serde_json::json!("USERNAME")]);
}

#[test]
fn a_run_together_ip_is_an_address_whatever_its_number_type() {
    let engine = engine();
    // Question2Answer keeps `INET_ATON` numbers under `createip`; a cookie's number is not a
    // device identifier while a number under a device's name is a key.
    assert_eq!(classify_typed(&engine, "qa_users", "createip", "int_unsigned"), Some("IP_ADDRESS"));
    assert_eq!(classify_typed(&engine, "qa_cookies", "cookieid", "bigint_unsigned"), None);
}

#[test]
fn a_stored_authorization_header_is_a_credential_when_it_is_text() {
    let engine = engine();
    assert_eq!(classify_typed(&engine, "bank_gateways", "authorization", "string"), Some("API_KEY"));
    assert_eq!(classify_typed(&engine, "payments", "authorization", "boolean"), None);
    assert_eq!(engine.classify(&ColumnRef::new("bank_gateways", "authorization"), None).entity, None);
}

#[test]
fn a_push_gateways_key_is_a_device_identifier() {
    let engine = engine();
    assert_eq!(classify_typed(&engine, "pushers", "pushkey", "text"), Some("DEVICE_ID"));
}

#[test]
fn an_email_id_kept_as_text_is_the_address() {
    let engine = engine();
    // Frappe's `email_id` is the address itself; a number under that name is a stored email's key.
    assert_eq!(classify_typed(&engine, "tabCustomer", "email_id", "data"), Some("EMAIL_ADDRESS"));
    assert_eq!(classify_typed(&engine, "tabContact", "email_id", "read_only"), Some("EMAIL_ADDRESS"));
    assert_eq!(classify_typed(&engine, "deliveries", "email_id", "integer"), None);
    assert_eq!(classify_typed(&engine, "email_recipients", "email_id", "varchar(24)"), None);
    assert_eq!(engine.classify(&ColumnRef::new("tabCustomer", "email_id"), None).entity, None);
}

#[test]
fn social_network_ids_typed_in_as_text_are_handles() {
    let engine = engine();
    // An address book's contact keeps the handles the user typed in; the network's account
    // number is a number, and a channel's page id is not a person's.
    assert_eq!(classify_typed(&engine, "contacts", "twitter_id", "string"), Some("USERNAME"));
    assert_eq!(classify_typed(&engine, "contacts", "instagram_id", "varchar(255)"), Some("USERNAME"));
    assert_eq!(classify_typed(&engine, "users", "twitter_id", "bigint"), None);
    assert_eq!(classify_typed(&engine, "channel_instagram", "instagram_id", "string"), None);
}

#[test]
fn a_rule_with_names_can_be_kept_off_a_type() {
    let rules = concat!(
        "version = \"acme-3\"\n",
        "[[rule]]\nid = \"acme.badge\"\nentity = \"NATIONAL_ID\"\nnames = [\"badge\"]\nunless_type = [\"integer\"]\n",
    );
    let engine = EngineBuilder::new()
        .rules_text("acme.toml", rules)
        .and_then(EngineBuilder::build)
        .unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(classify_typed(&engine, "employees", "badge", "varchar(20)"), Some("NATIONAL_ID"));
    // An integer could hold the number; the rule keeps off it all the same.
    assert_eq!(classify_typed(&engine, "employees", "badge", "int(11)"), None);
    assert_eq!(engine.classify(&ColumnRef::new("employees", "badge"), None).entity, Some("NATIONAL_ID"));
}
