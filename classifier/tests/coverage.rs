//! One case for every entity, every default rule, every modifier list and every validator, with
//! checks that the lists below stay complete: a rule or validator added without a case here, or
//! removed while its case is still here, fails a test.

use std::collections::BTreeSet;

use classifier::validators::CivilDate;
use classifier::{Category, ColumnRef, DEFAULT_RULES, Engine, EngineBuilder, Reason, Validator, compute_signals_at};

fn engine() -> Engine {
    match Engine::with_default_rules() {
        Ok(engine) => engine,
        Err(error) => panic!("default rules must load: {error}"),
    }
}

#[test]
fn every_entity_exists_with_its_category() {
    let expected = [
        ("EMAIL_ADDRESS", Category::Pii),
        ("PHONE_NUMBER", Category::Pii),
        ("PERSON_NAME", Category::Pii),
        ("STREET_ADDRESS", Category::Pii),
        ("ZIPCODE", Category::Pii),
        ("CITY", Category::Pii),
        ("DATE_OF_BIRTH", Category::Pii),
        ("AGE", Category::Pii),
        ("GENDER", Category::Pii),
        ("ETHNIC_GROUP", Category::Special),
        ("RELIGION", Category::Special),
        ("MARITAL_STATUS", Category::Pii),
        ("NATIONAL_ID", Category::Pii),
        ("PASSPORT_NUMBER", Category::Pii),
        ("DRIVER_LICENSE", Category::Pii),
        ("CREDIT_CARD", Category::Pci),
        ("IBAN", Category::Pii),
        ("BANK_ACCOUNT", Category::Pii),
        ("IP_ADDRESS", Category::Pii),
        ("MAC_ADDRESS", Category::Pii),
        ("DEVICE_ID", Category::Pii),
        ("GEO_COORDINATES", Category::Pii),
        ("USERNAME", Category::Pii),
        ("PASSWORD", Category::Credential),
        ("API_KEY", Category::Credential),
        ("MEDICAL_CONDITION", Category::Phi),
        ("HEALTH_RECORD_ID", Category::Phi),
        ("SEXUAL_ORIENTATION", Category::Special),
        ("POLITICAL_OPINION", Category::Special),
        ("TRADE_UNION", Category::Special),
        ("BIOMETRIC", Category::Special),
        ("GENETIC", Category::Special),
    ];
    let engine = engine();
    for (entity, category) in expected {
        assert_eq!(engine.category_of(entity), Some(category), "{entity}");
    }
}

/// `(rule id, table, column, entity)`: the column must be decided by that rule. For rules that
/// need a table context, a second case shows the same column outside it.
const RULE_CASES: &[(&str, &str, &str, Option<&str>)] = &[
    ("email", "users", "email", Some("EMAIL_ADDRESS")),
    ("email", "kunden", "e_mail_adresse", Some("EMAIL_ADDRESS")),
    ("email.bare_mail", "users", "mail", Some("EMAIL_ADDRESS")),
    ("api_key.rands_on_a_persons_row", "user", "rands", Some("API_KEY")),
    ("email.recipient_address_in_email_table", "dc_send_email_event", "to_address", Some("EMAIL_ADDRESS")),
    ("email.recipient_address_in_email_table", "mail_queue", "toaddress", Some("EMAIL_ADDRESS")),
    ("person_name.recipient_of_email", "mail_queue", "to_name", Some("PERSON_NAME")),
    ("person_name.signature_on_a_form", "medicaid_applications", "signature", Some("PERSON_NAME")),
    ("person_name.forms_of_a_contacts_name", "civicrm_contact", "sort_name", Some("PERSON_NAME")),
    ("person_name.forms_of_a_contacts_name", "contacts", "postal_greeting_display", Some("PERSON_NAME")),
    ("person_name.forms_of_a_contacts_name", "contacts", "email_greeting_custom", Some("PERSON_NAME")),
    ("person_name.forms_of_a_contacts_name", "civicrm_contact", "addressee_display", Some("PERSON_NAME")),
    ("username.lowercased_in_person_table", "user", "lower_name", Some("USERNAME")),
    ("email.bare_mail", "users", "user_mail", Some("EMAIL_ADDRESS")),
    ("email.address_in_email_table", "sent_emails", "sent_address", Some("EMAIL_ADDRESS")),
    ("email.message_parties", "ahoy_messages", "to", Some("EMAIL_ADDRESS")),
    ("email.message_addresses", "emails", "sent_to", Some("EMAIL_ADDRESS")),
    ("email.message_addresses", "emails", "bcc", Some("EMAIL_ADDRESS")),
    ("email.message_addresses", "emails", "cclist", Some("EMAIL_ADDRESS")),
    ("email.mail_headers", "article_data_mime", "a_reply_to", Some("EMAIL_ADDRESS")),
    ("email.mail_headers", "message_headers", "from", Some("EMAIL_ADDRESS")),
    ("email.reply_to_of_person", "identities", "reply-to", Some("EMAIL_ADDRESS")),
    ("email.not_an_address", "jobs", "mail_server", None),
    ("email.not_an_address", "notification_log", "email_sender", None),
    ("email.not_an_address", "users", "email_sha256", None),
    ("phone", "users", "telefonnummer", Some("PHONE_NUMBER")),
    ("phone", "subscribers", "msisdn", Some("PHONE_NUMBER")),
    ("phone", "persons", "contact_numbers", Some("PHONE_NUMBER")),
    ("person_name.kana", "dtb_customer", "kana01", Some("PERSON_NAME")),
    ("phone.voice_of_person", "Profile", "voice", Some("PHONE_NUMBER")),
    ("phone.ambiguous", "users", "mobile", Some("PHONE_NUMBER")),
    ("phone.ambiguous", "PATIENT", "PAT_TELE", Some("PHONE_NUMBER")),
    ("phone.calling_code", "client", "phone_cc", None),
    ("phone.calling_code", "invoice", "buyer_phone_cc", None),
    ("phone", "employees", "office_phone", Some("PHONE_NUMBER")),
    ("street_address", "customers", "street", Some("STREET_ADDRESS")),
    ("street_address.line_in_address_table", "addresses", "line1", Some("STREET_ADDRESS")),
    ("street_address.not_postal", "wallets", "wallet_address", None),
    ("street_address.not_postal", "mail_accounts", "imap_address", None),
    ("street_address.not_postal", "privmsgs", "bcc_address", None),
    ("zipcode", "customers", "postleitzahl", Some("ZIPCODE")),
    ("zipcode", "students", "pin_code", Some("ZIPCODE")),
    ("city", "customers", "wohnort", Some("CITY")),
    ("geo", "checkins", "latitude", Some("GEO_COORDINATES")),
    ("person_name.given", "people", "vorname", Some("PERSON_NAME")),
    ("person_name.given", "people", "fname", Some("PERSON_NAME")),
    ("person_name.family", "people", "nachname", Some("PERSON_NAME")),
    ("person_name.full", "orders", "cardholder_name", Some("PERSON_NAME")),
    ("person_name.full", "fund_requests", "payee_name", Some("PERSON_NAME")),
    ("person_name.contact_person", "proposals", "responsible_name", Some("PERSON_NAME")),
    ("person_name.contact_person", "vendors", "contact_name", Some("PERSON_NAME")),
    ("person_name.head_of_institution", "schools", "principal", Some("PERSON_NAME")),
    ("person_name.suffix_in_person_table", "dependents", "spouse_suffix", Some("PERSON_NAME")),
    ("person_name.assistant_or_partner_contact", "contact_details", "assistant", Some("PERSON_NAME")),
    ("person_name.assistant_or_partner_contact", "leads", "partnercontact", Some("PERSON_NAME")),
    ("person_name.credit", "versions", "authors", Some("PERSON_NAME")),
    ("person_name.credit", "finance_donations", "donor", Some("PERSON_NAME")),
    ("person_name.full", "employees", "husband_name", Some("PERSON_NAME")),
    ("person_name.full", "tickets", "requester_name", Some("PERSON_NAME")),
    ("person_name.abbreviated_in_person_table", "students", "sname", Some("PERSON_NAME")),
    ("person_name.patient_in_health_table", "encounters", "pat_name", Some("PERSON_NAME")),
    ("person_name.family", "person_name", "family_name_prefix", Some("PERSON_NAME")),
    ("person_name.display_name_in_person_table", "users", "display_name", Some("PERSON_NAME")),
    ("person_name.vcard", "contacts", "vcard", Some("PERSON_NAME")),
    ("person_name.single_word_language", "clientes", "nombre", Some("PERSON_NAME")),
    ("person_name.bare_name_in_person_table", "customers", "name", Some("PERSON_NAME")),
    ("person_name.not_a_person", "uploads", "file_name", None),
    ("username", "accounts", "benutzername", Some("USERNAME")),
    ("username.account_name", "users", "account_name", Some("USERNAME")),
    ("username.bare_user", "audit_log", "user", Some("USERNAME")),
    ("username.not_a_local_user_id", "founders", "slack_user_id", None),
    ("username.nickname_in_person_table", "members", "nickname", Some("USERNAME")),
    ("username.social_handle_in_person_table", "profiles", "twitter", Some("USERNAME")),
    ("username.alias_of_person", "contact", "alias", Some("USERNAME")),
    ("username.chat_address", "chat_contacts", "jid", Some("USERNAME")),
    ("username.chat_address", "profiles", "matrix_id", Some("USERNAME")),
    ("username.matrix_in_person_table", "contact", "matrix", Some("USERNAME")),
    ("username.social_profile_url_in_person_table", "users", "linkedin_url", Some("USERNAME")),
    ("username.openid", "users", "openid_identifier", Some("USERNAME")),
    ("username.handle_in_person_table", "people", "diaspora_handle", Some("USERNAME")),
    ("username.not_a_handle", "people", "file_handle", None),
    ("city.location_in_person_table", "profiles", "location", Some("CITY")),
    ("city.name_in_person_table", "job_applicants", "current_city_name", Some("CITY")),
    ("username.not_a_login", "users", "last_login", None),
    ("username.auto_login", "sessions", "session_autologin", None),
    ("username.poster", "topics", "topic_last_poster_name", Some("USERNAME")),
    ("username.not_a_login", "mail_accounts", "smtp_login", None),
    ("date_of_birth", "patients", "dob", Some("DATE_OF_BIRTH")),
    ("date_of_birth", "patients", "dateOfBirth", Some("DATE_OF_BIRTH")),
    ("age", "athletes", "age", Some("AGE")),
    ("date_of_birth.abbreviated_in_person_table", "contact", "bd", Some("DATE_OF_BIRTH")),
    ("date_of_birth.abbreviated_in_person_table", "contact", "bdyear", Some("DATE_OF_BIRTH")),
    ("gender", "customers", "geschlecht", Some("GENDER")),
    ("gender.ambiguous", "users", "genre", Some("GENDER")),
    ("marital_status", "employees", "familienstand", Some("MARITAL_STATUS")),
    ("nationality", "travellers", "nationality", Some("NATIONALITY")),
    ("national_id", "employees", "ssn", Some("NATIONAL_ID")),
    ("national_id.abbreviated", "customer_entity", "taxvat", Some("NATIONAL_ID")),
    ("national_id", "employees", "nic_num", Some("NATIONAL_ID")),
    ("national_id.national_insurance_of_person", "applicants", "national_insurance", Some("NATIONAL_ID")),
    ("national_id.tax_number_of_person", "employees", "tax_number", Some("NATIONAL_ID")),
    ("password.pin", "cards", "pin", Some("PASSWORD")),
    ("zipcode.pin_of_address", "addresses", "pin", Some("ZIPCODE")),
    ("health_record_id.display_id_of_patient", "patients", "display_id", Some("HEALTH_RECORD_ID")),
    ("username.dav_principal", "addressbooks", "principaluri", Some("USERNAME")),
    ("username.uri_of_principal", "principals", "uri", Some("USERNAME")),
    ("username.orcid", "researchers", "orcid", Some("USERNAME")),
    ("person_name.party", "party_address", "party_name", Some("PERSON_NAME")),
    ("password.data_of_secret", "secrets", "data", Some("PASSWORD")),
    ("email.value_of_login_address", "identity_verifiable_addresses", "value", Some("EMAIL_ADDRESS")),
    ("street_address.display_name_of_address", "addresses", "display_name", Some("STREET_ADDRESS")),
    ("password.connection_string", "monitor", "database_connection_string", Some("PASSWORD")),
    ("api_key.revoked_token", "blacklisted_tokens", "token", None),
    ("person_name.owner_on_any_row", "podcasts", "owner_name", Some("PERSON_NAME")),
    ("email.owner_on_any_row", "podcasts", "owner_email", Some("EMAIL_ADDRESS")),
    ("password.smtp_settings", "teams", "smtp_attributes", Some("PASSWORD")),
    ("person_name.carddav_card", "vcards", "carddata", Some("PERSON_NAME")),
    ("api_key.login_session_id", "users", "unique_session_id", Some("API_KEY")),
    ("person_name.role_at_organisation", "partners", "executive_director_name", Some("PERSON_NAME")),
    ("email.role_at_organisation", "partners", "program_contact_email", Some("EMAIL_ADDRESS")),
    ("phone.role_at_organisation", "partners", "pick_up_phone", Some("PHONE_NUMBER")),
    ("zipcode.zip_file", "downloads", "zipfile_size", None),
    ("password.encryption_salt", "users", "encrypted_otp_secret_salt", None),
    ("username.user_text", "revision", "rev_user_text", Some("USERNAME")),
    ("api_key.login_key", "mybb_users", "loginkey", Some("API_KEY")),
    ("email.recipient", "mybb_mailqueue", "mailto", Some("EMAIL_ADDRESS")),
    ("api_key.sid_of_session_table", "mybb_sessions", "sid", Some("API_KEY")),
    ("api_key.card_authorization_code", "payments", "authorization_code", None),
    ("username.user_defined_text", "patient_data", "usertext11", None),
    ("ip_address.address_in_ip_list", "ipblocks", "ipb_address", Some("IP_ADDRESS")),
    ("ip_address.host_in_ip_list", "smf_ban_items", "hostname", Some("IP_ADDRESS")),
    ("geo.zone", "geo_zones", "geo_zone_name", None),
    ("email.value_in_email_table", "suitability_record_emails", "value", Some("EMAIL_ADDRESS")),
    ("ip_address.address_in_ip_list", "phpbb_banlist", "ban_address", Some("IP_ADDRESS")),
    ("passport", "travellers", "passport_number", Some("PASSPORT_NUMBER")),
    ("driver_license", "drivers", "drivers_license", Some("DRIVER_LICENSE")),
    ("credit_card", "payments", "card_number", Some("CREDIT_CARD")),
    ("credit_card", "payment_methods", "card_last4", Some("CREDIT_CARD")),
    ("iban", "payouts", "iban", Some("IBAN")),
    ("bank_account", "employees", "bank_account_number", Some("BANK_ACCOUNT")),
    ("record_number", "m_loan", "account_no", None),
    ("record_number", "vtiger_contactdetails", "contact_no", None),
    ("bank_account.details", "employee_bank_details", "bank_info", Some("BANK_ACCOUNT")),
    ("ip_address", "logins", "remote_ip", Some("IP_ADDRESS")),
    ("ip_address.infrastructure", "servers", "server_ip", None),
    ("username.service_login_of_network_equipment", "automation_devices", "snmp_username", None),
    ("ip_address.of_network_equipment", "bgpPeers", "bgpLocalAddr", None),
    ("ip_address.of_network_equipment", "subnet_addresses", "mac", None),
    ("mac_address", "devices", "mac_address", Some("MAC_ADDRESS")),
    ("device_id", "installs", "advertising_id", Some("DEVICE_ID")),
    ("device_id", "sessions", "user_agent", Some("DEVICE_ID")),
    ("device_id.session_browser", "phpbb_sessions", "session_browser", Some("DEVICE_ID")),
    ("device_id.push_endpoint", "web_push_subscriptions", "endpoint", Some("DEVICE_ID")),
    ("password", "users", "password_hash", Some("PASSWORD")),
    ("password", "devices", "snmp_community", Some("PASSWORD")),
    ("person_name.vcard_parts", "egw_addressbook", "n_given", Some("PERSON_NAME")),
    ("person_name.vcard_parts", "contacts", "n_fn", Some("PERSON_NAME")),
    ("password.bare_pass", "users", "pass", Some("PASSWORD")),
    ("medical_condition.age_at_a_habit_or_onset", "patients", "age_start_drinking", Some("MEDICAL_CONDITION")),
    ("medical_condition.sexual_behaviour", "patients", "sex_with_prostitutes", Some("MEDICAL_CONDITION")),
    ("name.long_name", "units", "longname", None),
    ("education.year_of_passing", "job_applicants", "year_of_pass_out", None),
    ("password.processing_pass", "bbcodes", "first_pass_match", None),
    ("api_key", "users", "reset_password_token", Some("API_KEY")),
    ("api_key.not_a_secret", "oauth_clients", "token_type", None),
    ("api_key.not_a_secret", "users", "secret_question", None),
    ("api_key", "users", "sms_confirmation_code", Some("API_KEY")),
    ("api_key.session_id", "sessions", "session_id", Some("API_KEY")),
    ("api_key.code_in_token_table", "login_tokens", "code", Some("API_KEY")),
    ("api_key.code_in_token_table", "invitation_requests", "code", Some("API_KEY")),
    ("api_key.code_in_token_table", "rest_access_tokens", "hash", Some("API_KEY")),
    ("api_key.code_in_token_table", "client_password_reset", "hash", Some("API_KEY")),
    ("api_key.code_in_token_table", "2fa_recovery_codes", "code", Some("API_KEY")),
    ("api_key.code_in_token_table", "email_verification_codes", "code", Some("API_KEY")),
    ("api_key.code_in_token_table", "access_tokens", "sha256", Some("API_KEY")),
    ("api_key.hashed_code_in_token_table", "api_keys", "key_hash", Some("API_KEY")),
    ("api_key.hashed_code_in_token_table", "totp_recovery_codes", "code_digest", Some("API_KEY")),
    ("password.hash_in_password_table", "UserPassword", "hash", Some("PASSWORD")),
    ("password.hash_in_password_table", "user_passwords", "digest", Some("PASSWORD")),
    ("api_key.slug_of_shared_link", "shared_links", "slug", Some("API_KEY")),
    ("api_key.slug_of_shared_link", "sharelinks", "key", Some("API_KEY")),
    ("medical_condition", "patients", "diagnosis", Some("MEDICAL_CONDITION")),
    ("medical_condition", "candidate", "eeo_disability_status", Some("MEDICAL_CONDITION")),
    ("medical_condition.clinical_terms", "intake_forms", "asthma", Some("MEDICAL_CONDITION")),
    ("medical_condition.clinical_terms_in_health_table", "form_ros", "pain", Some("MEDICAL_CONDITION")),
    ("medical_condition.obstetric_counts_in_health_table", "form_ros", "gravida", Some("MEDICAL_CONDITION")),
    ("medical_condition.in_health_table", "vitals", "temperature", Some("MEDICAL_CONDITION")),
    ("medical_condition.clinical_terms_in_health_table", "form_ros", "std", Some("MEDICAL_CONDITION")),
    ("medical_condition.subject_of_health_record", "student_medical_alerts", "title", Some("MEDICAL_CONDITION")),
    ("api_key.token_digest", "users", "activation_digest", Some("API_KEY")),
    ("api_key.link_hash", "invoices", "public_link_hash", Some("API_KEY")),
    ("username.slug_in_person_table", "members", "profile_slug", Some("USERNAME")),
    ("reason.administrative", "obs", "void_reason", None),
    ("health_record_id", "patients", "mrn", Some("HEALTH_RECORD_ID")),
    ("ethnic_group", "employees", "ethnicity", Some("ETHNIC_GROUP")),
    ("religion", "employees", "konfession", Some("RELIGION")),
    ("sexual_orientation", "profiles", "orientation", Some("SEXUAL_ORIENTATION")),
    ("sexual_orientation.explicit", "survey_answers", "sexual_orientation", Some("SEXUAL_ORIENTATION")),
    ("political_opinion", "members", "political_party", Some("POLITICAL_OPINION")),
    ("trade_union", "employees", "union_membership", Some("TRADE_UNION")),
    ("biometric", "employees", "fingerprint_template", Some("BIOMETRIC")),
    ("biometric.fingerprint_of_person", "employees", "fingerprint", Some("BIOMETRIC")),
    ("biometric.not_personal", "ssh_keys", "key_fingerprint", None),
    ("genetic", "samples", "genotype", Some("GENETIC")),
];

/// Columns that a rule with a table context must leave alone outside that context.
const OUTSIDE_CONTEXT: &[(&str, &str)] = &[
    ("emails", "reply_to"),
    ("visits", "browser"),
    ("article", "insert_fingerprint"),
    ("newsletters", "from"),
    ("tags", "display_name"),
    ("products", "nombre"),
    ("products", "name"),
    ("prices", "nickname"),
    ("posts", "twitter"),
    ("events", "location"),
    ("movies", "genre"),
    ("jobs", "pain"),
    ("jobs", "gravida"),
    ("warehouses", "temperature"),
    ("discount_coupons", "code"),
    ("photos", "orientation"),
    ("timezone", "std_offset"),
    ("mailboxes", "mail_active"),
    ("PRODUCT", "PRD_SNAME"),
    ("webhooks", "endpoint"),
    ("demos", "demo_handle"),
    // Rules that do not apply to an organisation's tables.
    ("stores", "email"),
    ("companies", "phone"),
    ("suppliers", "street"),
    ("x12_partners", "id_number"),
    // A table whose head word says nothing takes an organisation's context from a word before it,
    // but not a person's: a role or a preference of a user is not the user.
    ("channel_sms", "phone_number"),
    ("groups", "email"),
    ("locations", "zip_code"),
    ("user_roles", "name"),
    ("user_preferences", "name"),
    ("accounts", "name"),
    // A CRM's or a help desk's accounts are companies or tenants; projects and queues have
    // addresses of their own.
    ("accounts", "phone"),
    ("vtiger_account", "email1"),
    ("accounts", "account_name"),
    ("accounts", "billing_city"),
    ("projects", "email"),
    ("queues", "correspond_address"),
    ("partners", "assistant"),
    ("orders", "to"),
    ("invoices", "line1"),
    ("tags", "linkedin_url"),
    // Units of an organisation, and rules that select people by an attribute.
    ("wards", "email"),
    ("departments", "phone"),
    ("tax_rules", "nationality"),
    ("deduction_rules", "ethnicity"),
    ("pricing_rules", "age"),
    ("segments", "gender"),
    ("forward_email_rules", "email"),
    // A Matrix address and a short birthday only on a person's row.
    ("polls", "matrix"),
    ("builds", "bd"),
    // A geocoder's results and a council's contacts are nobody's; a server's host name is no IP.
    ("geocode_results", "full_address"),
    ("geocode_results", "lat"),
    ("authorities", "full_name"),
    ("councils", "email"),
    ("servers", "hostname"),
    // A shop's zones are not a position.
    ("geo_zones", "geo_zone_description"),
    // A template's or a setting's value is not an address.
    ("email_templates", "value"),
    ("settings", "value"),
];

fn rule_of<'e>(reasons: &[Reason<'e>]) -> Option<&'e str> {
    reasons.iter().find_map(|reason| match reason {
        Reason::NameRule { rule, .. } => Some(*rule),
        _ => None,
    })
}

#[test]
fn every_default_rule_decides_its_case() {
    let engine = engine();
    let mut failures = Vec::new();
    for (rule, table, column, entity) in RULE_CASES {
        let got = engine.classify(&ColumnRef::new(table, column), None);
        if rule_of(&got.reasons) != Some(*rule) || got.entity != *entity {
            failures.push(format!(
                "{table}.{column}: expected {entity:?} by {rule}, got {:?} ({:?})",
                got.entity, got.reasons
            ));
        }
    }
    for (table, column) in OUTSIDE_CONTEXT {
        let got = engine.classify(&ColumnRef::new(table, column), None);
        if got.entity.is_some() {
            failures.push(format!("{table}.{column}: outside the rule's table context, got {:?}", got.reasons));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_default_rule_has_a_case() {
    let parsed: toml::Table = match toml::from_str(DEFAULT_RULES) {
        Ok(parsed) => parsed,
        Err(error) => panic!("{error}"),
    };
    let all: Vec<&str> = parsed
        .get("rule")
        .and_then(toml::Value::as_array)
        .map(|rules| rules.iter().filter_map(|rule| rule.get("id").and_then(toml::Value::as_str)).collect())
        .unwrap_or_default();
    let ids: BTreeSet<&str> = all.iter().copied().collect();
    assert!(ids.len() > 50, "rules are found in the default file");
    // A later rule with an id already used replaces the earlier one (as a user file's does), so
    // in the default file every id is used once.
    let repeated: Vec<&&str> = ids.iter().filter(|id| all.iter().filter(|other| other == id).count() > 1).collect();
    assert!(repeated.is_empty(), "rule ids used more than once in the default file: {repeated:?}");
    // Rules that need a table's other columns have their cases in `name_rules.rs`
    // (`a_session_tables_id_is_its_identifier_unless_another_column_is`,
    // `a_session_tables_session_column_is_its_identifier_next_to_its_payload`,
    // `an_address_line_beside_a_city_is_a_street_address`).
    // The rules that need the column's type have their cases in `column_types.rs`
    // (`a_role_word_is_a_login_when_it_is_text`,
    // `a_session_a_confirmation_id_and_a_list_of_organizers_kept_as_text_are_personal`,
    // `federated_identities_and_case_handlers_kept_as_text_are_personal`,
    // `a_verification_key_kept_as_text_on_a_persons_row_is_a_credential`,
    // `recipients_actors_and_verification_identifiers_kept_as_text_are_personal`,
    // `reset_keys_and_share_keys_kept_as_text_are_credentials`,
    // `a_remember_me_key_kept_as_text_is_a_credential`,
    // `a_session_tables_id_kept_as_text_is_its_identifier`,
    // `a_key_tables_id_kept_as_text_is_the_key`,
    // `logins_under_an_identifiers_name_and_activation_codes_kept_as_text`,
    // `user_references_kept_as_text_are_logins`,
    // `a_stored_authorization_header_is_a_credential_when_it_is_text`,
    // `an_email_id_kept_as_text_is_the_address`,
    // `social_network_ids_typed_in_as_text_are_handles`; name_rules.rs
    // `a_named_contacts_fax_and_address_and_ibans_on_any_row`,
    // `a_clinical_forms_unnamed_columns_are_findings_but_not_its_keys_and_dates`,
    // `a_bare_contact_kept_as_text_names_a_person_and_makes_the_rows_contacts_details_theirs`,
    // `address_parts_beside_a_city_a_name_beside_an_email_abbreviated_audit_columns_and_stored_secrets`,
    // `login_ids_in_tables_of_generated_ids_second_factors_and_addresses_to_verify`,
    // `a_persons_pin_code_without_an_address_the_parts_of_a_geocoded_address_and_sessions_of_work`,
    // `a_token_tables_access_and_refresh_and_database_connection_strings`,
    // `performers_kept_as_text_reset_codes_and_revoked_tokens`,
    // `invitation_links_mail_server_settings_and_token_tables_with_a_token_column`,
    // `srp_verifiers_protected_keys_their_tags_and_viewers`,
    // `matrix_localparts_and_third_party_identifiers`,
    // `audit_ids_kept_as_text_and_the_names_of_who_created_a_record`,
    // `a_user_agent_abbreviated_beside_an_ip_address_and_a_token_digest_named_by_its_algorithm`,
    // `lists_of_users_kept_as_text_and_mail_and_sound_settings`).
    let needs_other_columns =
        [
            "api_key.id_of_session_table",
            "password.seed_on_a_persons_row",
            "medical_condition.finding_on_a_clinical_form",
            "username.role_word_as_text",
            "email.of_named_contact",
            "phone.of_named_contact",
            "api_key.session_as_text",
            "api_key.session_of_session_table",
            "api_key.confirm_id",
            "person_name.people_listed_as_text",
            "username.federated_actor",
            "username.matrix_user_id",
            "street_address.line_beside_city",
            "api_key.verification_key_of_person",
            "email.identifier_in_token_table",
            "email.recipients_as_text",
            "api_key.reset_key_as_text",
            "api_key.share_link_key",
            "api_key.remember_me_as_text",
            "api_key.session_id_as_text",
            "api_key.id_of_credential_table",
            "api_key.activation_as_text",
            "username.user_id_as_text",
            "street_address.of_named_contact",
            "api_key.stored_authorization_header",
            "email.id_as_text",
            "username.social_id_as_text_in_person_table",
            "person_name.bare_contact",
            "street_address.parts_beside_city",
            "city.neighbourhood_beside_city",
            "person_name.name_beside_email",
            "username.login_id_as_text",
            "password.pin_code_of_person",
            "api_key.access_and_refresh_in_token_table",
            "person_name.performer_as_text",
            "api_key.link_of_invitation",
            "password.verifier_beside_salt",
            "username.matrix_localpart",
            "email.matrix_threepid",
            "password.authenticator_secret_on_a_persons_row",
            "device_id.ua_beside_ip",
            "username.user_lists_as_text",
        ];
    let covered: BTreeSet<&str> =
        RULE_CASES.iter().map(|(rule, ..)| *rule).chain(needs_other_columns).collect();
    let missing: Vec<&&str> = ids.difference(&covered).collect();
    assert!(missing.is_empty(), "default rules without a case in RULE_CASES: {missing:?}");
    let stale: Vec<&&str> = covered.difference(&ids).collect();
    assert!(stale.is_empty(), "cases for rules that no longer exist: {stale:?}");
}

#[test]
fn every_modifier_list_sets_a_match_aside() {
    let engine = engine();
    // (table, column, the modifier word that sets the match aside)
    for (table, column, word) in [
        ("users", "email_verified", "verified"),
        ("users", "phone_id", "id"),
        ("users", "is_email", "is"),
        ("employees", "employer_phone", "employer"),
        ("customers", "reach_via_email", "via"),
        ("users", "email_when_mentioned", "when"),
        ("person", "birthdate_estimated", "estimated"),
        ("event_kinds", "minimum_age", "minimum"),
        ("allergy", "coded_allergen", "coded"),
        ("channel_twilio_sms", "api_key_sid", "sid"),
        ("user_communication_preferences", "email_about_events", "about"),
        ("preferences", "mobile_todos_per_page", "per"),
        ("users", "receive_onboarding_emails", "receive"),
        ("orders", "product_full_name", "product"),
        ("staff", "phone_ext", "ext"),
        ("employees", "emergency_contact_relation", "relation"),
        ("staff", "change_passwd", "change"),
        ("employees", "office_address_line1", "office"),
        ("notifications", "system_email", "system"),
        ("candidate_joborder_status", "triggers_email", "triggers"),
        ("disallow", "disallow_username", "disallow"),
        ("sitelist", "ip_exclude", "exclude"),
        ("bots", "bot_ip", "bot"),
        ("client", "email_approved", "approved"),
        ("invoice", "seller_address", "seller"),
        ("intakes", "hashed_primary_ssn", "hashed"),
        ("opt_ins", "encrypted_email_iv", "iv"),
        ("intakes", "no_ssn", "no"),
        ("ach_transfers", "account_number_bidx", "bidx"),
        ("application_forms", "disclose_disability", "disclose"),
    ] {
        let got = engine.classify(&ColumnRef::new(table, column), None);
        assert_eq!(got.entity, None, "{table}.{column}");
        let set_aside_by = got.reasons.iter().find_map(|reason| match reason {
            Reason::Modifier { word, .. } => Some(*word),
            _ => None,
        });
        assert_eq!(set_aside_by, Some(word), "{table}.{column}: {:?}", got.reasons);
    }
}

#[test]
fn run_together_words_are_split() {
    let engine = engine();
    for (table, column, entity) in [
        ("users", "phonecell", Some("PHONE_NUMBER")),
        ("users", "phonew1", Some("PHONE_NUMBER")),
        ("users", "streetb", Some("STREET_ADDRESS")),
        ("events", "pc_contemail", Some("EMAIL_ADDRESS")),
        ("users", "useremail", Some("EMAIL_ADDRESS")),
        ("sessions", "lastip", Some("IP_ADDRESS")),
        // `ip` run on to a word of the rules' vocabulary (`createip`, `writeip`); words that
        // only end in the letters stay whole.
        ("qa_users", "createip", Some("IP_ADDRESS")),
        ("qa_posts", "writeip", Some("IP_ADDRESS")),
        ("groups", "membership", None),
        ("widgets", "tooltip", None),
        ("orders", "relationship", None),
        // Codes run together: the one mailed to confirm an address, a session cookie's.
        ("qa_users", "emailcode", Some("API_KEY")),
        ("qa_users", "sessioncode", Some("API_KEY")),
        ("qa_cookies", "cookieid", Some("DEVICE_ID")),
        // A short prefix run on to every table's and column's name (OXID's `oxaddress.OXFNAME`)
        // is cut off when both go on with a known word; a word known whole is not cut.
        ("oxaddress", "OXFNAME", Some("PERSON_NAME")),
        ("oxaddress", "OXCITY", Some("CITY")),
        ("cmsusers", "cmsemail", Some("EMAIL_ADDRESS")),
        ("users", "username", Some("USERNAME")),
        ("orders", "ordername", None),
        ("oxarticles", "OXTITLE", None),
        ("user", "maildigest", None),
        // Two words of three letters are not split: `export` is not exp + ort (a town).
        ("users", "export", None),
        // Inflections and short endings stay whole.
        ("messages", "messages", None),
        ("settings", "languages", None),
        ("users", "aged", None),
        ("mail", "hotmail", None),
        // Whole words cut into known words, the last a word of a rule: qualifiers from the
        // rules' vocabulary (`other`, `secondary`, `assistant`) run on to the name.
        ("vtiger_users", "secondaryemail", Some("EMAIL_ADDRESS")),
        ("contact_address", "otherstreet", Some("STREET_ADDRESS")),
        ("contact_address", "otherpobox", Some("STREET_ADDRESS")),
        ("contact_address", "othercity", Some("CITY")),
        ("contact_address", "otherzip", Some("ZIPCODE")),
        ("contact_details", "assistantphone", Some("PHONE_NUMBER")),
        ("contact_details", "homeemailaddress", Some("EMAIL_ADDRESS")),
        // A cut is taken only when the whole word is made of known words.
        ("contacts", "otherwiseemail", None),
        ("users", "allowemail", None),
        ("users", "totalcount", None),
        // Known words that are also endings (`-age`) are not split off.
        ("exams", "weightage", None),
        ("trips", "mileage", None),
    ] {
        assert_eq!(engine.classify(&ColumnRef::new(table, column), None).entity, entity, "{table}.{column}");
    }
}

/// `(validator, values that pass, a value that does not)`.
const VALIDATOR_CASES: &[(Validator, &[&str], &str)] = &[
    (Validator::Email, &["jane@example.com", "li.wei@example.org"], "jane@"),
    (Validator::Phone, &["+44 20 7946 0958", "(415) 555-2671"], "12345"),
    (Validator::CreditCard, &["4111 1111 1111 1111", "378282246310005"], "4111111111111112"),
    (Validator::Iban, &["DE89 3704 0044 0532 0130 00", "NL91ABNA0417164300"], "DE89370400440532013001"),
    (Validator::BirthDate, &["1985-03-02", "02.03.1990"], "2030-01-01"),
    (Validator::IpAddress, &["192.168.1.10", "2001:db8::1"], "256.1.1.1"),
    (Validator::MacAddress, &["00:1A:2b:3C:4d:5E", "001a.2b3c.4d5e"], "00:1A:2B:3C:4D"),
    (Validator::Coordinate, &["52.520008", "-122.4194"], "52.5"),
    (Validator::CoordinatePair, &["52.520008,13.404954", "(48.8566, 2.3522)"], "52.5,13.4"),
    (Validator::Uuid, &["550e8400-e29b-41d4-a716-446655440000"], "550e8400e29b41d4a716446655440000"),
    (Validator::UsSsn, &["123-45-6789"], "666-12-3456"),
    (Validator::UkNino, &["AB123456C"], "QQ123456C"),
    (Validator::DeTaxId, &["86095742719"], "86095742718"),
    (Validator::FrNir, &["185057800608491"], "185057800608492"),
    (Validator::EsDniNie, &["12345678Z", "X1234567L"], "12345678A"),
    (Validator::ItCodiceFiscale, &["RSSMRA85T10A562S"], "RSSMRA85T10A562T"),
    (Validator::NlBsn, &["123456782"], "123456789"),
    (Validator::PlPesel, &["44051401359"], "44051401358"),
    (Validator::BrCpf, &["529.982.247-25"], "529.982.247-26"),
    (Validator::PassportLike, &["C01X00T47", "L01234567"], "ABCDEFGHI"),
    (Validator::PostalCode, &["94105", "SW1A 1AA"], "hello"),
    (Validator::Gender, &["F", "female", "Frau"], "maybe"),
    (
        Validator::Jwt,
        &["eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"],
        "a.b.c",
    ),
    (Validator::ApiKey, &["sk_live_4eC39HqLyjWDarjtT1zdp7dc", "AKIAIOSFODNN7EXAMPLE"], "hello world this is text"),
    (Validator::PasswordHash, &["$2b$12$KIXQJ8kGx1bQ9pZ5y3vZxeWcL2b3v4n5m6q7r8s9t0u1v2w3x4y5z"], "password123"),
    (Validator::HexDigest, &["5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8"], "5e884898da2804715"),
    (Validator::AgeLike, &["34", "0", "120"], "121"),
];

#[test]
fn every_validator_counts_in_value_signals() {
    let today = CivilDate::new(2025, 6, 15).unwrap_or_else(|| panic!("valid date"));
    for (validator, passing, failing) in VALIDATOR_CASES {
        let signals = compute_signals_at(passing.iter().copied(), today);
        assert_eq!(signals.count(*validator), passing.len() as u32, "{} on {passing:?}", validator.name());
        let signals = compute_signals_at(std::iter::once(*failing), today);
        assert_eq!(signals.count(*validator), 0, "{} on {failing:?}", validator.name());
    }
    let covered: BTreeSet<&str> = VALIDATOR_CASES.iter().map(|(validator, ..)| validator.name()).collect();
    let missing: Vec<&str> =
        Validator::ALL.iter().map(|validator| validator.name()).filter(|name| !covered.contains(name)).collect();
    assert!(missing.is_empty(), "validators without a case: {missing:?}");
}

#[test]
fn a_manual_label_in_a_user_rules_file_wins_over_names_and_values() {
    let path = std::env::temp_dir().join(format!("classifier-labels-{}.toml", std::process::id()));
    let written = std::fs::write(
        &path,
        "version = \"site-1\"\n\n[[label]]\ncolumn = \"users.email\"\nentity = \"none\"\n\n\
         [[label]]\ncolumn = \"shop.orders.note*\"\nentity = \"MEDICAL_CONDITION\"\n",
    );
    assert!(written.is_ok(), "{written:?}");
    let engine = EngineBuilder::new().rules_file(&path).and_then(EngineBuilder::build);
    let _ = std::fs::remove_file(&path);
    let engine = engine.unwrap_or_else(|error| panic!("{error}"));
    let today = CivilDate::new(2025, 6, 15).unwrap_or_else(|| panic!("valid date"));
    let emails = compute_signals_at(["a@example.com", "b@example.org", "c@example.net"].into_iter(), today);
    let pinned = engine.classify(&ColumnRef::new("users", "email"), Some(&emails));
    assert_eq!((pinned.entity, pinned.confidence), (None, 1.0), "the name and the values said email");
    assert!(matches!(pinned.reasons.as_slice(), [Reason::ManualLabel { .. }]), "{:?}", pinned.reasons);
    let notes = ColumnRef { schema: Some("shop"), ..ColumnRef::new("orders", "notes") };
    let labelled = engine.classify(&notes, None);
    assert_eq!((labelled.entity, labelled.category), (Some("MEDICAL_CONDITION"), Some(Category::Phi)));
    match labelled.reasons.as_slice() {
        [Reason::ManualLabel { defined_at, .. }] => assert!(defined_at.ends_with(".toml:7"), "{defined_at}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        engine.classify(&ColumnRef::new("users", "phone"), None).entity,
        Some("PHONE_NUMBER"),
        "rules still apply"
    );
}
