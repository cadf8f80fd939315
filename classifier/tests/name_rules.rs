//! Every family of name rules: English, abbreviations, each language, negatives, table context.

use classifier::{ColumnRef, ColumnType, Engine};

fn engine() -> Engine {
    match Engine::with_default_rules() {
        Ok(engine) => engine,
        Err(error) => panic!("default rules must load: {error}"),
    }
}

/// The entity of `table.column` given the names of the table's columns.
fn with_siblings<'e>(engine: &'e Engine, table: &str, column: &str, siblings: &[&str]) -> Option<&'e str> {
    let evidence = engine.table_evidence(siblings.iter().copied());
    engine.classify(&ColumnRef::new(table, column).with_siblings(evidence), None).entity
}

/// The entity of `table.column` declared as `declared`.
fn typed<'e>(engine: &'e Engine, table: &str, column: &str, declared: &str) -> Option<&'e str> {
    engine.classify(&ColumnRef::new(table, column).with_type(ColumnType::from_declared(declared)), None).entity
}

/// The entity of `table.column` declared as `declared`, given the table's columns and their
/// declared types.
fn typed_with_siblings<'e>(engine: &'e Engine, table: &str, column: &str, declared: &str, siblings: &[(&str, &str)]) -> Option<&'e str> {
    let evidence = engine.table_evidence(siblings.iter().map(|(name, declared)| (*name, ColumnType::from_declared(declared))));
    engine.classify(&ColumnRef::new(table, column).with_siblings(evidence).with_type(ColumnType::from_declared(declared)), None).entity
}

fn check(engine: &Engine, cases: &[(&str, &str, Option<&str>)]) {
    let mut failures = Vec::new();
    for (table, column, expected) in cases {
        let got = engine.classify(&ColumnRef::new(table, column), None);
        if got.entity != *expected {
            failures.push(format!("{table}.{column}: expected {expected:?}, got {:?} ({:?})", got.entity, got.reasons));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn english_names() {
    check(&engine(), &[
        ("users", "email", Some("EMAIL_ADDRESS")),
        ("orders", "customer_email", Some("EMAIL_ADDRESS")),
        ("users", "emailAddress", Some("EMAIL_ADDRESS")),
        ("users", "phone_number", Some("PHONE_NUMBER")),
        ("contacts", "mobilePhone", Some("PHONE_NUMBER")),
        ("users", "first_name", Some("PERSON_NAME")),
        ("users", "LastName", Some("PERSON_NAME")),
        ("users", "full_name", Some("PERSON_NAME")),
        ("orders", "billing_first_name", Some("PERSON_NAME")),
        ("addresses", "street_address", Some("STREET_ADDRESS")),
        ("addresses", "address_line_1", Some("STREET_ADDRESS")),
        ("addresses", "postal_code", Some("ZIPCODE")),
        ("addresses", "city", Some("CITY")),
        ("users", "date_of_birth", Some("DATE_OF_BIRTH")),
        ("users", "birthday", Some("DATE_OF_BIRTH")),
        ("users", "gender", Some("GENDER")),
        ("employees", "marital_status", Some("MARITAL_STATUS")),
        ("employees", "social_security_number", Some("NATIONAL_ID")),
        ("travellers", "passport_number", Some("PASSPORT_NUMBER")),
        ("drivers", "driver_license_number", Some("DRIVER_LICENSE")),
        ("payments", "credit_card_number", Some("CREDIT_CARD")),
        ("payments", "card_expiry_date", Some("CREDIT_CARD")),
        ("payouts", "iban", Some("IBAN")),
        ("payouts", "bank_account_number", Some("BANK_ACCOUNT")),
        ("sessions", "ip_address", Some("IP_ADDRESS")),
        ("users", "last_sign_in_ip", Some("IP_ADDRESS")),
        ("devices", "mac_address", Some("MAC_ADDRESS")),
        ("devices", "device_id", Some("DEVICE_ID")),
        ("checkins", "latitude", Some("GEO_COORDINATES")),
        ("users", "username", Some("USERNAME")),
        ("users", "encrypted_password", Some("PASSWORD")),
        ("users", "password_reset_token", Some("API_KEY")),
        ("integrations", "api_key", Some("API_KEY")),
        ("patients", "diagnosis", Some("MEDICAL_CONDITION")),
        ("patients", "medical_record_number", Some("HEALTH_RECORD_ID")),
        ("employees", "ethnicity", Some("ETHNIC_GROUP")),
        ("employees", "religion", Some("RELIGION")),
        ("profiles", "sexual_orientation", Some("SEXUAL_ORIENTATION")),
        ("members", "political_party", Some("POLITICAL_OPINION")),
        ("employees", "trade_union_membership", Some("TRADE_UNION")),
        ("employees", "fingerprint_template", Some("BIOMETRIC")),
        ("samples", "dna_sample", Some("GENETIC")),
        ("users", "age", Some("AGE")),
        ("users", "nationality", Some("NATIONALITY")),
    ]);
}

#[test]
fn abbreviations() {
    check(&engine(), &[
        ("users", "dob", Some("DATE_OF_BIRTH")),
        ("subscribers", "msisdn", Some("PHONE_NUMBER")),
        ("users", "fname", Some("PERSON_NAME")),
        ("users", "lname", Some("PERSON_NAME")),
        ("employees", "ssn", Some("NATIONAL_ID")),
        ("employees", "nin", Some("NATIONAL_ID")),
        ("payments", "cc_num", Some("CREDIT_CARD")),
        ("payments", "pan", Some("CREDIT_CARD")),
        ("payments", "cvv", Some("CREDIT_CARD")),
        ("logins", "ip", Some("IP_ADDRESS")),
        ("checkins", "lat", Some("GEO_COORDINATES")),
        ("checkins", "lng", Some("GEO_COORDINATES")),
        ("addresses", "zip", Some("ZIPCODE")),
        ("addresses", "postcode", Some("ZIPCODE")),
        ("users", "pwd", Some("PASSWORD")),
        ("users", "passwd", Some("PASSWORD")),
        ("users", "pw_hash", Some("PASSWORD")),
        ("clients", "client_secret", Some("API_KEY")),
        ("users", "remember_token", Some("API_KEY")),
        ("patients", "mrn", Some("HEALTH_RECORD_ID")),
        ("users", "addr", Some("STREET_ADDRESS")),
        ("users", "tel", Some("PHONE_NUMBER")),
    ]);
}

#[test]
fn german() {
    check(&engine(), &[
        ("kunden", "vorname", Some("PERSON_NAME")),
        ("kunden", "nachname", Some("PERSON_NAME")),
        ("kunden", "geburtsdatum", Some("DATE_OF_BIRTH")),
        ("kunden", "strasse", Some("STREET_ADDRESS")),
        ("kunden", "Straße", Some("STREET_ADDRESS")),
        ("kunden", "plz", Some("ZIPCODE")),
        ("kunden", "ort", Some("CITY")),
        ("kunden", "telefon", Some("PHONE_NUMBER")),
        ("kunden", "geschlecht", Some("GENDER")),
        ("mitarbeiter", "steuer_id", Some("NATIONAL_ID")),
        ("mitarbeiter", "kontonummer", Some("BANK_ACCOUNT")),
        ("mitarbeiter", "familienstand", Some("MARITAL_STATUS")),
        ("mitarbeiter", "konfession", Some("RELIGION")),
        ("benutzer", "passwort", Some("PASSWORD")),
    ]);
}

#[test]
fn french() {
    check(&engine(), &[
        ("clients", "courriel", Some("EMAIL_ADDRESS")),
        ("utilisateurs", "nom", Some("PERSON_NAME")),
        ("utilisateurs", "prenom", Some("PERSON_NAME")),
        ("utilisateurs", "prénom", Some("PERSON_NAME")),
        ("clients", "date_naissance", Some("DATE_OF_BIRTH")),
        ("clients", "date_de_naissance", Some("DATE_OF_BIRTH")),
        ("clients", "telephone", Some("PHONE_NUMBER")),
        ("clients", "code_postal", Some("ZIPCODE")),
        ("clients", "ville", Some("CITY")),
        ("clients", "adresse", Some("STREET_ADDRESS")),
        ("clients", "sexe", Some("GENDER")),
        ("clients", "mot_de_passe", Some("PASSWORD")),
        ("salaries", "numero_securite_sociale", Some("NATIONAL_ID")),
    ]);
}

#[test]
fn spanish() {
    check(&engine(), &[
        ("clientes", "correo", Some("EMAIL_ADDRESS")),
        ("clientes", "correo_electronico", Some("EMAIL_ADDRESS")),
        ("clientes", "telefono", Some("PHONE_NUMBER")),
        ("clientes", "apellido", Some("PERSON_NAME")),
        ("clientes", "nombre", Some("PERSON_NAME")),
        ("clientes", "fecha_nacimiento", Some("DATE_OF_BIRTH")),
        ("clientes", "direccion", Some("STREET_ADDRESS")),
        ("clientes", "codigo_postal", Some("ZIPCODE")),
        ("clientes", "dni", Some("NATIONAL_ID")),
        ("clientes", "nif", Some("NATIONAL_ID")),
        ("clientes", "contrasena", Some("PASSWORD")),
        ("clientes", "contraseña", Some("PASSWORD")),
    ]);
}

#[test]
fn italian() {
    check(&engine(), &[
        ("utenti", "cognome", Some("PERSON_NAME")),
        ("utenti", "nome", Some("PERSON_NAME")),
        ("utenti", "codice_fiscale", Some("NATIONAL_ID")),
        ("utenti", "data_di_nascita", Some("DATE_OF_BIRTH")),
        ("utenti", "indirizzo", Some("STREET_ADDRESS")),
        ("utenti", "sesso", Some("GENDER")),
        ("utenti", "cellulare", Some("PHONE_NUMBER")),
    ]);
}

#[test]
fn dutch() {
    check(&engine(), &[
        ("klanten", "voornaam", Some("PERSON_NAME")),
        ("klanten", "achternaam", Some("PERSON_NAME")),
        ("klanten", "geboortedatum", Some("DATE_OF_BIRTH")),
        ("klanten", "straat", Some("STREET_ADDRESS")),
        ("klanten", "huisnummer", Some("STREET_ADDRESS")),
        ("klanten", "woonplaats", Some("CITY")),
        ("klanten", "telefoonnummer", Some("PHONE_NUMBER")),
        ("klanten", "bsn", Some("NATIONAL_ID")),
        ("klanten", "wachtwoord", Some("PASSWORD")),
        ("klanten", "geslacht", Some("GENDER")),
    ]);
}

#[test]
fn portuguese() {
    check(&engine(), &[
        ("clientes", "cpf", Some("NATIONAL_ID")),
        ("clientes", "sobrenome", Some("PERSON_NAME")),
        ("clientes", "data_nascimento", Some("DATE_OF_BIRTH")),
        ("clientes", "endereco", Some("STREET_ADDRESS")),
        ("clientes", "cep", Some("ZIPCODE")),
        ("clientes", "senha", Some("PASSWORD")),
        ("clientes", "telefone", Some("PHONE_NUMBER")),
        ("clientes", "celular", Some("PHONE_NUMBER")),
    ]);
}

#[test]
fn polish() {
    check(&engine(), &[
        ("klienci", "imie", Some("PERSON_NAME")),
        ("klienci", "imię", Some("PERSON_NAME")),
        ("klienci", "nazwisko", Some("PERSON_NAME")),
        ("klienci", "pesel", Some("NATIONAL_ID")),
        ("klienci", "data_urodzenia", Some("DATE_OF_BIRTH")),
        ("klienci", "ulica", Some("STREET_ADDRESS")),
        ("klienci", "kod_pocztowy", Some("ZIPCODE")),
        ("klienci", "miasto", Some("CITY")),
        ("klienci", "plec", Some("GENDER")),
        ("klienci", "haslo", Some("PASSWORD")),
        ("klienci", "nip", Some("NATIONAL_ID")),
    ]);
}

#[test]
fn negatives() {
    check(&engine(), &[
        ("users", "created_at", None),
        ("users", "updated_at", None),
        ("files", "file_name", None),
        ("products", "product_name", None),
        ("servers", "host_name", None),
        ("pg_stat", "table_name", None),
        ("orders", "user_id", None),
        ("users", "address_id", None),
        ("users", "email_verified", None),
        ("users", "email_verified_at", None),
        ("users", "is_email_public", None),
        ("users", "phone_type", None),
        ("users", "status", None),
        ("posts", "comment_count", None),
        ("users", "last_login", None),
        ("users", "last_login_at", None),
        ("users", "password_changed_at", None),
        ("settings", "mail_server", None),
        ("wallets", "wallet_address", None),
        ("nodes", "server_ip", None),
        ("keys", "ssh_fingerprint", None),
        ("keys", "public_key", None),
        ("oauth", "token_type", None),
        ("cache", "max_age", None),
        ("users", "email_template_id", None),
        ("products", "weight", None),
        ("products", "condition", None),
        ("products", "name", None),
        ("categories", "name", None),
        ("users", "time_zone", None),
        ("users", "sign_in_count", None),
        ("orders", "phone_country_code", None),
        ("addresses", "country", None),
    ]);
}

#[test]
fn table_context() {
    check(&engine(), &[
        ("users", "name", Some("PERSON_NAME")),
        ("customer_entity", "name", Some("PERSON_NAME")),
        ("products", "name", None),
        ("patients", "condition", Some("MEDICAL_CONDITION")),
        ("products", "condition", None),
        ("patient_vitals", "weight", Some("MEDICAL_CONDITION")),
        ("stores", "phone", None),
        ("stores", "address", None),
        ("company_users", "phone", Some("PHONE_NUMBER")),
        ("clientes", "nombre", Some("PERSON_NAME")),
        ("productos", "nombre", None),
    ]);
}

#[test]
fn identifier_words_first_make_a_key() {
    check(&engine(), &[
        ("carts", "id_address_delivery", None),
        ("customers", "id_gender", None),
        ("orders", "fk_customer_email", None),
        ("customers", "id_number", Some("NATIONAL_ID")),
        ("customers", "id_card_number", Some("NATIONAL_ID")),
    ]);
}

#[test]
fn metadata_about_credentials_and_flags() {
    check(&engine(), &[
        ("customers", "last_passwd_gen", None),
        ("customers", "reset_password_validity", None),
        ("countries", "need_zip_code", None),
        ("carts", "mobile_theme", None),
        ("posts", "email_only", None),
        ("members", "email_open_rate", None),
        ("customers", "secure_key", Some("API_KEY")),
        ("sessions", "sessid", Some("API_KEY")),
        ("users", "password", Some("PASSWORD")),
    ]);
}

#[test]
fn organisation_contact_details() {
    check(&engine(), &[
        ("pharmacies", "email", None),
        ("insurance_companies", "attn", None),
        ("facilities", "phone", None),
        ("employer_data", "city", None),
        ("insurance_data", "subscriber_employer_street", None),
        ("orders", "company_phone", None),
        ("insurance_data", "subscriber_street", Some("STREET_ADDRESS")),
        ("companies_users", "email", Some("EMAIL_ADDRESS")),
        ("users", "attn", Some("PERSON_NAME")),
    ]);
}

#[test]
fn names_that_only_a_person_table_makes_personal() {
    check(&engine(), &[
        ("users", "display_name", Some("PERSON_NAME")),
        ("tags", "display_name", None),
        ("accounts", "nickname", Some("USERNAME")),
        ("stripe_prices", "nickname", None),
        ("webauthn_credentials", "nickname", None),
        ("users", "twitter", Some("USERNAME")),
        ("users", "linkedin", Some("USERNAME")),
        ("posts_meta", "twitter_title", None),
        ("tags", "facebook", None),
        ("users", "slug", Some("USERNAME")),
        ("tags", "slug", None),
        ("members", "location", Some("CITY")),
        ("events", "location", None),
    ]);
}

#[test]
fn more_identifiers_and_names() {
    check(&engine(), &[
        ("patient_data", "ss", Some("NATIONAL_ID")),
        ("insurance_data", "subscriber_ss", Some("NATIONAL_ID")),
        ("customer_entity", "taxvat", Some("NATIONAL_ID")),
        ("subscriptions", "payment_card_last4", Some("CREDIT_CARD")),
        ("patient_data", "mothersname", Some("PERSON_NAME")),
        ("patient_data", "guardians_name", Some("PERSON_NAME")),
        ("patient_data", "ethnoracial", Some("ETHNIC_GROUP")),
    ]);
}

#[test]
fn clinical_vocabulary() {
    check(&engine(), &[
        ("form_ros", "night_sweats", Some("MEDICAL_CONDITION")),
        ("form_ros", "asthma", Some("MEDICAL_CONDITION")),
        ("form_reviewofs", "throat_cancer_surgery", Some("MEDICAL_CONDITION")),
        ("history_data", "relatives_diabetes", Some("MEDICAL_CONDITION")),
        ("history_data", "last_mammogram", Some("MEDICAL_CONDITION")),
        ("history_data", "tobacco", Some("MEDICAL_CONDITION")),
        ("transactions", "reply_final_diag", Some("MEDICAL_CONDITION")),
        ("admissions_log", "prior_hospitalization", Some("MEDICAL_CONDITION")),
        ("patient_vitals", "pain", Some("MEDICAL_CONDITION")),
        ("observations", "stroke", Some("MEDICAL_CONDITION")),
        // Outside health tables these words mean something else.
        ("shapes", "stroke", None),
        ("orders", "discharge", None),
        ("jobs", "weakness", None),
    ]);
}

#[test]
fn people_in_roles_and_contact_persons() {
    check(&engine(), &[
        ("judges", "name", Some("PERSON_NAME")),
        ("emergency_dependents", "name", Some("PERSON_NAME")),
        ("fund_requests", "payee_name", Some("PERSON_NAME")),
        ("cases", "youth_name", Some("PERSON_NAME")),
        // The person to contact is a person even in an organisation's table.
        ("vendors", "contact_name", Some("PERSON_NAME")),
        ("organizations", "responsible_name", Some("PERSON_NAME")),
        ("distributions", "agency_rep", Some("PERSON_NAME")),
        // Credits kept as text.
        ("versions", "authors", Some("PERSON_NAME")),
        ("content_type_map", "authorship", Some("PERSON_NAME")),
        ("posts", "author_id", None),
        // Things have full names too.
        ("versions", "full_name", None),
        ("versions", "gem_full_name", None),
        ("course", "fullname", None),
        ("users", "full_name", Some("PERSON_NAME")),
        // An account's bare name is its label (a company, a bank account).
        ("accounts", "name", None),
        ("accounts", "display_name", Some("PERSON_NAME")),
        ("customers", "name", Some("PERSON_NAME")),
    ]);
}

#[test]
fn email_and_address_tables() {
    check(&engine(), &[
        ("sent_emails", "sent_address", Some("EMAIL_ADDRESS")),
        ("emails", "address", Some("EMAIL_ADDRESS")),
        ("ahoy_messages", "to", Some("EMAIL_ADDRESS")),
        ("orders", "to", None),
        ("people", "address", Some("STREET_ADDRESS")),
        ("addresses", "line1", Some("STREET_ADDRESS")),
        ("addresses", "content", Some("STREET_ADDRESS")),
        ("posts", "content", None),
        ("invoices", "line1", None),
    ]);
}

#[test]
fn handles_links_and_pronouns() {
    check(&engine(), &[
        ("users", "facebook_url", Some("USERNAME")),
        ("users", "linkedin_url", Some("USERNAME")),
        ("user_profiles", "medium", Some("USERNAME")),
        ("users", "website_url", None),
        ("tags", "facebook_url", None),
        ("users", "open_id_url", Some("USERNAME")),
        ("rusers", "openid_identifier", Some("USERNAME")),
        // An organisation's, community's or show's handles are not a person's.
        ("organizations", "twitter_username", None),
        ("communities", "twitter_handle", None),
        ("podcasts", "twitter_username", None),
        ("users", "twitter_username", Some("USERNAME")),
        ("users", "pronouns", Some("GENDER")),
    ]);
}

#[test]
fn settings_about_data_and_places_of_things() {
    check(&engine(), &[
        ("user_communication_preferences", "email_about_events", None),
        ("user_communication_preferences", "receive_onboarding_emails", None),
        ("users", "email_membership_newsletter", None),
        ("preferences", "mobile_todos_per_page", None),
        ("users", "mail_fails", None),
        ("oidc_api_key_roles", "api_key_permissions", None),
        ("ip_addresses", "hashed_ip_address", None),
        ("job_opportunities", "location_postal_code", None),
        ("stock_exchanges", "city", None),
        ("geoip_infos", "city", None),
        ("users", "city", Some("CITY")),
        ("submissions", "test_results", None),
        ("labs", "test_results", Some("MEDICAL_CONDITION")),
    ]);
}

#[test]
fn secrets_under_other_words() {
    check(&engine(), &[
        ("users", "totp_seed", Some("PASSWORD")),
        ("users", "otp_secret_key", Some("PASSWORD")),
        ("rusers", "reset_key", Some("API_KEY")),
        ("user_bootcamp_data", "access_code", Some("API_KEY")),
        ("api_keys", "hashed_key", Some("API_KEY")),
        ("payments", "last_digits", Some("CREDIT_CARD")),
        // A login session's id is a token; another kind of session's id is a key to its row.
        ("sessions", "session_id", Some("API_KEY")),
        ("user_bootcamp_data", "checkout_session_id", None),
        ("impersonation_session_logs", "impersonation_session_id", None),
        ("openemr_session_info", "pn_sessid", Some("API_KEY")),
    ]);
}

#[test]
fn heads_compounds_and_table_prefixes() {
    check(&engine(), &[
        // `mail` names an address only as the column's head word.
        ("users", "user_mail", Some("EMAIL_ADDRESS")),
        ("mailboxes_config", "mail_fetchfreq", None),
        ("mailboxes_config", "mail_lasterror", None),
        // `-age` is an ending, not a second word.
        ("exams", "weightage", None),
        ("vehicles", "mileage", None),
        ("imports", "signage_convention", None),
        // India's postal index number is a postal code, a bare PIN still a secret.
        ("students", "pin_code", Some("ZIPCODE")),
        ("employees", "home_pincode", Some("ZIPCODE")),
        ("cards", "pin", Some("PASSWORD")),
        // A phrase takes in its own trailing number.
        ("payment_methods", "last4", Some("CREDIT_CARD")),
        // Columns prefixed with an abbreviation of their table.
        ("PATIENT", "PAT_NAME", Some("PERSON_NAME")),
        ("PATIENT", "PAT_SNAME", Some("PERSON_NAME")),
        ("PATIENT", "PAT_TELE", Some("PHONE_NUMBER")),
        ("PATIENT", "PAT_NEXT_KIN", Some("PERSON_NAME")),
        ("CUSTOMER", "CST_EMAIL_ADDR", Some("EMAIL_ADDRESS")),
        ("employees", "emp_name", Some("PERSON_NAME")),
        // A whole word is not an abbreviation: `user_name` stays a login.
        ("users", "user_name", Some("USERNAME")),
        // A single letter abbreviates the table's first word (a mail article's headers).
        ("article_data_mime", "a_from", Some("EMAIL_ADDRESS")),
        ("article_data_mime", "a_cc", Some("EMAIL_ADDRESS")),
        ("article_data_mime", "a_subject", None),
        ("article_data_mime", "a_in_reply_to", None),
        ("posts", "p_from", None),
        // The table's own word as a prefix: the rest is read on its own, but not by rules that
        // need the whole name (`post_author` and `impersonation_session_id` point at rows).
        ("phpbb_sessions", "session_browser", Some("DEVICE_ID")),
        ("phpbb_login_attempts", "attempt_browser", Some("DEVICE_ID")),
        ("wp_posts", "post_author", None),
        ("impersonation_session_logs", "impersonation_session_id", None),
        ("sessions", "session_id", Some("API_KEY")),
        // Outside a person's table the rest is read as usual.
        ("products", "prod_name", None),
    ]);
}

#[test]
fn offices_units_rules_and_relatives() {
    check(&engine(), &[
        // An office's or a venue's address is not a person's; an employee's office phone is theirs.
        ("employees", "office_address_line1", None),
        ("guardians", "office_city", None),
        ("employees", "office_pin_code", None),
        ("employees", "office_phone", Some("PHONE_NUMBER")),
        ("employees", "office_fax", Some("PHONE_NUMBER")),
        ("employees", "home_address_line1", Some("STREET_ADDRESS")),
        ("events", "venue_address", None),
        ("notifications", "site_email", None),
        // Units of an organisation.
        ("wards", "fax", None),
        ("departments", "email", None),
        ("agencies", "phone", None),
        // Rules that select people by an attribute.
        ("tax_rules", "nationality", None),
        ("deduction_rules", "ethnicity", None),
        ("forward_email_rules", "email", None),
        ("audience_segments", "gender", None),
        ("employees", "nationality", Some("NATIONALITY")),
        // Relatives and people in roles, named after the relation or the role.
        ("employees", "husband_name", Some("PERSON_NAME")),
        ("students", "mother_name", Some("PERSON_NAME")),
        ("tickets", "requester_name", Some("PERSON_NAME")),
        ("bookings", "attendee_name", Some("PERSON_NAME")),
        ("documents", "approved_by_name", Some("PERSON_NAME")),
        ("finance_donations", "donor", Some("PERSON_NAME")),
        ("encounters", "pat_name", Some("PERSON_NAME")),
        ("users", "initials", Some("PERSON_NAME")),
        ("users", "avatar_initials", None),
        ("employees", "emergency_contact_relation", None),
        // Identity numbers, bank details, phone extensions, mail lists, token hashes, flags.
        ("employees", "nic_num", Some("NATIONAL_ID")),
        ("employees", "aadhar_no", Some("NATIONAL_ID")),
        ("employees", "uan_number", Some("NATIONAL_ID")),
        ("employee_bank_details", "bank_info", Some("BANK_ACCOUNT")),
        ("staff", "phone_ext", None),
        ("staff", "contact_number", Some("PHONE_NUMBER")),
        ("emails", "cclist", Some("EMAIL_ADDRESS")),
        ("rest_access_tokens", "hash", Some("API_KEY")),
        ("staff", "change_passwd", None),
        ("users", "force_password_reset", None),
    ]);
}

#[test]
fn run_together_qualifiers_accounts_and_record_numbers() {
    check(&engine(), &[
        // Qualifiers run on to a name (`other`, `secondary`, `assistant`, `partner`).
        ("vtiger_contactdetails", "otheremail", Some("EMAIL_ADDRESS")),
        ("vtiger_leaddetails", "secondaryemail", Some("EMAIL_ADDRESS")),
        ("vtiger_contactsubdetails", "otherphone", Some("PHONE_NUMBER")),
        ("vtiger_contactsubdetails", "assistantphone", Some("PHONE_NUMBER")),
        ("vtiger_contactaddress", "otherstreet", Some("STREET_ADDRESS")),
        ("customers", "alternatemobilenumber", Some("PHONE_NUMBER")),
        ("users", "export", None),
        ("users", "sponsorship", None),
        // A CRM's company accounts and a tenant's account: contact details are the company's.
        ("accounts", "phone", None),
        ("accounts", "fax", None),
        ("accounts", "email", None),
        ("vtiger_account", "accountname", None),
        ("accounts", "support_email", None),
        // An account that names a person or a payment provider is the holder's.
        ("user_accounts", "email", Some("EMAIL_ADDRESS")),
        ("paypal_accounts", "email", Some("EMAIL_ADDRESS")),
        ("braintree_accounts", "phone", Some("PHONE_NUMBER")),
        ("customer_accounts", "city", Some("CITY")),
        ("mastodon_accounts", "username", Some("USERNAME")),
        // Numbers the application gives its own records are keys.
        ("m_client", "account_no", None),
        ("vtiger_leaddetails", "lead_no", None),
        ("vtiger_contactdetails", "contact_no", None),
        ("invoices", "customer_number", None),
        ("employees", "bank_account_no", Some("BANK_ACCOUNT")),
        ("employees", "account_number", Some("BANK_ACCOUNT")),
        ("staff", "mobile_no", Some("PHONE_NUMBER")),
        // Projects' and queues' addresses; what is left of an allowance.
        ("projects", "email", None),
        ("Queues", "CommentAddress", None),
        ("project_users", "email", Some("EMAIL_ADDRESS")),
        ("m_appuser", "firsttime_login_remaining", None),
        // A contact's assistant and a partner's contact person.
        ("users", "assistant", Some("PERSON_NAME")),
        ("vtiger_potential", "partnercontact", Some("PERSON_NAME")),
        ("vendors", "assistant", None),
    ]);
}

#[test]
fn headers_posters_passes_and_flags() {
    check(&engine(), &[
        // A stored mail's headers; a person's or identity's reply-to; a newsletter's is a setting.
        ("article_data_mime", "a_bcc", Some("EMAIL_ADDRESS")),
        ("message_headers", "reply_to", Some("EMAIL_ADDRESS")),
        ("identities", "reply-to", Some("EMAIL_ADDRESS")),
        ("users", "replyto", Some("EMAIL_ADDRESS")),
        ("emails", "reply_to", None),
        ("newsletters", "sender_reply_to", None),
        ("statuses", "in_reply_to_id", None),
        // Carbon copies are never a street.
        ("privmsgs", "bcc_address", None),
        ("privmsgs", "to_address", None),
        // Whoever posted, by login; the key beside it is a key.
        ("forums", "forum_last_poster_name", Some("USERNAME")),
        ("topics", "topic_first_poster_name", Some("USERNAME")),
        ("posts", "poster_id", None),
        // User agents of login sessions and attempts; an analytics visit's browser family.
        ("sessions", "browser", Some("DEVICE_ID")),
        ("login_attempts", "attempt_browser", Some("DEVICE_ID")),
        ("visits", "browser", None),
        // A parser's passes are not passwords; a bare pass still is.
        ("bbcodes", "second_pass_replace", None),
        ("jobs", "final_pass", None),
        ("users", "user_pass", Some("PASSWORD")),
        // Flags and patterns: what a status triggers, names a site refuses, excluded addresses.
        ("status", "triggers_email", None),
        ("disallow", "disallow_username", None),
        ("settings", "reserved_usernames", None),
        ("sitelist", "ip_exclude", None),
        ("banlist", "ban_ip", Some("IP_ADDRESS")),
        ("sessions", "session_autologin", None),
        // A crawler is not a person, but a bot's token is a stored credential.
        ("bots", "bot_ip", None),
        ("channel_telegram", "bot_token", Some("API_KEY")),
        // A fingerprint is a person's only on a person's or patient's row.
        ("users", "fingerprint", Some("BIOMETRIC")),
        ("article", "insert_fingerprint", None),
        ("uploads", "fingerprint", None),
        // A status that is the condition; a vCard holds a name.
        ("candidate", "eeo_disability_status", Some("MEDICAL_CONDITION")),
        ("contacts", "vcard", Some("PERSON_NAME")),
    ]);
}

#[test]
fn run_together_table_words_ending_in_a_context_word() {
    check(&engine(), &[
        // A bookseller supplying a library is a business; its contact person is a person.
        ("aqbooksellers", "address1", None),
        ("aqbooksellers", "phone", None),
        ("aqbooksellers", "postal", None),
        ("aqbooksellers", "accountnumber", None),
        ("aqbookseller_interfaces", "login", None),
        ("aqbookseller_interfaces", "account_email", None),
        ("aqbookseller_interfaces", "password", Some("PASSWORD")),
        ("aqcontacts", "name", Some("PERSON_NAME")),
        ("apcontact", "nick", Some("USERNAME")),
        ("apcontact", "name", Some("PERSON_NAME")),
        // Short context words are not read off the end of a longer word.
        ("remember", "name", None),
        ("ghosts", "email", Some("EMAIL_ADDRESS")),
        // The seller on an invoice is the issuing business; the buyer is a person.
        ("invoice", "seller_email", None),
        ("invoice", "seller_phone", None),
        ("invoice", "buyer_email", Some("EMAIL_ADDRESS")),
        ("sellers", "email", None),
    ]);
}

#[test]
fn secrets_under_generic_and_abbreviated_names() {
    check(&engine(), &[
        // A password reset's link hash and a recovery code, only in such tables.
        ("admin_password_reset", "hash", Some("API_KEY")),
        ("password_resets", "code", Some("API_KEY")),
        ("2fa_recovery_codes", "code", Some("API_KEY")),
        ("files", "hash", None),
        ("coupons", "code", None),
        // Abbreviated private keys, a remembered browser's cookie, a domain's transfer code.
        ("user", "prvkey", Some("API_KEY")),
        ("contact", "privkey", Some("API_KEY")),
        ("2fa_trusted_browser", "cookie_hash", Some("API_KEY")),
        ("service_domain", "transfer_code", Some("API_KEY")),
        ("domains", "epp_code", Some("API_KEY")),
        ("settings", "cookie_name", None),
    ]);
}

#[test]
fn calling_codes_flags_and_short_forms() {
    check(&engine(), &[
        ("client", "phone_cc", None),
        ("service_domain", "contact_phone_cc", None),
        ("customers", "phone_country_code", None),
        ("countries", "calling_code", None),
        ("client", "phone", Some("PHONE_NUMBER")),
        ("client", "email_approved", None),
        ("comments", "comment_approved", None),
        ("contact", "bd", Some("DATE_OF_BIRTH")),
        ("contact", "bdyear", Some("DATE_OF_BIRTH")),
        ("contact", "matrix", Some("USERNAME")),
        ("polls", "matrix_counts", None),
    ]);
}

#[test]
fn clinical_words_anywhere_in_a_table_name_heads_of_schools_and_restrictions() {
    check(&engine(), &[
        // `medical` makes a health table wherever it stands; the visit's reason is clinical.
        ("student_medical_visits", "reason", Some("MEDICAL_CONDITION")),
        ("student_medical_visits", "comments", Some("MEDICAL_CONDITION")),
        ("student_medical_alerts", "title", Some("MEDICAL_CONDITION")),
        ("allergy", "allergen_type", Some("MEDICAL_CONDITION")),
        ("condition", "additional_detail", Some("MEDICAL_CONDITION")),
        // Without a clinical word, the same generic columns are nobody's health data.
        ("student_visits", "reason", None),
        ("student_alerts", "title", None),
        // `health` alone is not enough (`health_check_results` of a monitoring tool).
        ("health_check_results", "result", None),
        // On the patient's own row `title` is Mr or Ms.
        ("patient_data", "title", None),
        ("schools", "principal", Some("PERSON_NAME")),
        ("m_loan", "principal_amount", None),
        ("course_periods", "gender_restriction", None),
        ("participants", "email_notif_bits", None),
    ]);
}

#[test]
fn a_tables_other_columns_say_whether_its_rows_are_people_or_companies() {
    let engine = engine();
    let classify = |table: &str, column: &str, siblings: &[&str]| with_siblings(&engine, table, column, siblings);
    // An invoicing application's clients: a VAT number and an industry make them companies.
    let company = ["name", "address1", "city", "phone", "vat_number", "industry_id"];
    assert!(!engine.table_evidence(company).is_empty());
    assert_eq!(classify("clients", "address1", &company), None);
    // The reasons say why: the other columns made the rows an organisation's.
    let reasons = engine
        .classify(&ColumnRef::new("clients", "address1").with_siblings(engine.table_evidence(company)), None)
        .reasons;
    let shown = serde_json::to_string(&reasons).unwrap_or_default();
    // (A city among them also makes it a table of addresses.)
    assert!(shown.contains(r#"{"kind":"table_columns","added":["organisation","postal_columns"]}"#), "{shown}");
    // Nothing is said when the other columns change nothing.
    let plain = engine.classify(&ColumnRef::new("users", "email").with_siblings(engine.table_evidence(["first_name"])), None);
    assert!(!serde_json::to_string(&plain.reasons).unwrap_or_default().contains("table_columns"));
    assert_eq!(classify("clients", "city", &company), None);
    assert_eq!(classify("clients", "phone", &company), None);
    // Its contact person is a person even there.
    assert_eq!(classify("clients", "contact_name", &company), Some("PERSON_NAME"));
    // Known only by itself, the same column is taken for a person's.
    assert_eq!(classify("clients", "address1", &[]), Some("STREET_ADDRESS"));
    assert!(engine.table_evidence(["address1", "phone", "notes"]).is_empty());
    // A given name on the row wins: a sole trader with a VAT number is a person.
    let person = ["first_name", "last_name", "address1", "vatNumber"];
    assert_eq!(classify("clients", "address1", &person), Some("STREET_ADDRESS"));
    // Names are compared word by word, whatever their case or separators.
    assert_eq!(engine.table_evidence(["VatNumber"]), engine.table_evidence(["vat_number"]));
    // A person's columns make a table of any name a person table (`display_name` is a person's
    // name there).
    assert_eq!(classify("m_client", "display_name", &["firstname", "lastname", "display_name"]), Some("PERSON_NAME"));
}

#[test]
fn animals_switches_off_and_token_digests() {
    check(&engine(), &[
        // An animal's name, sex and birth date are nobody's personal data.
        ("pets", "name", None),
        ("pets", "sex", None),
        ("animals", "birth_date", None),
        ("pet_owners", "name", Some("PERSON_NAME")),
        ("adopters", "birth_date", Some("DATE_OF_BIRTH")),
        // Switches and wishes about mail are settings.
        ("preferences", "comment_emails_off", None),
        ("external_authors", "do_not_email", None),
        ("surveys", "htmlemail", None),
        ("surveys", "html_email", None),
        ("preferences", "first_login", None),
        ("users", "reset_digest", Some("API_KEY")),
        ("users", "verification_digest", Some("API_KEY")),
        ("users", "password_digest", Some("PASSWORD")),
    ]);
    // A pet table's birth date does not make its rows people.
    let engine = engine();
    let pets = engine.table_evidence(["name", "sex", "birth_date", "breed"]);
    assert_eq!(engine.classify(&ColumnRef::new("pets", "name").with_siblings(pets), None).entity, None);
}

#[test]
fn a_session_tables_id_is_its_identifier_unless_another_column_is() {
    let engine = engine();
    let classify = |table: &str, column: &str, siblings: &[&str]| with_siblings(&engine, table, column, siblings);
    assert_eq!(classify("ospos_sessions", "id", &["id", "ip_address", "timestamp", "data"]), Some("API_KEY"));
    assert_eq!(classify("sessions", "id", &["id", "session_id", "data"]), None);
    assert_eq!(classify("sessions", "id", &["id", "sid", "userid"]), None);
    assert_eq!(classify("users", "id", &["id", "email"]), None);
    assert_eq!(classify("users", "id", &["id", "data"]), None);
    // Without its other columns, a session table's `id` may be a plain key.
    assert_eq!(classify("sessions", "id", &[]), None);
}

#[test]
fn a_session_tables_session_column_is_its_identifier_next_to_its_payload() {
    let engine = engine();
    let classify = |table: &str, column: &str, siblings: &[&str]| with_siblings(&engine, table, column, siblings);
    assert_eq!(classify("elgg_users_sessions", "session", &["session", "ts", "data"]), Some("API_KEY"));
    // Without a payload the column may hold anything; outside a session table it is left to the
    // other rules.
    assert_eq!(classify("sessions", "session", &["session", "ts"]), None);
    assert_eq!(classify("visits", "session", &["session", "data"]), None);
}

#[test]
fn mail_and_tokens_under_other_words() {
    check(&engine(), &[
        // A table of email addresses holds email addresses, not streets.
        ("email_addresses", "address", Some("EMAIL_ADDRESS")),
        ("email_addresses", "normalized_address", Some("EMAIL_ADDRESS")),
        ("addresses", "address", Some("STREET_ADDRESS")),
        // Where an archived mail went, and to whom.
        ("email_archive", "email_to_address", Some("EMAIL_ADDRESS")),
        ("email_archive", "email_to_name", Some("PERSON_NAME")),
        ("coupon_email_track", "emailed_to", Some("EMAIL_ADDRESS")),
        // A remember-me cookie's code and a session key; a password question is shown to anyone.
        ("users_remember_me_cookies", "code", Some("API_KEY")),
        ("files_uploaded", "sesskey", Some("API_KEY")),
        ("oc_t_user", "s_pass_question", None),
        // A document's public link key, a subscriber's unique id in its links, a remembered
        // browser's cookie string and a salt under an abbreviation.
        ("ip_invoices", "invoice_url_key", Some("API_KEY")),
        ("phplist_user_user", "uniqid", Some("API_KEY")),
        ("mantis_user_table", "cookie_string", Some("API_KEY")),
        ("ip_users", "user_psalt", Some("PASSWORD")),
    ]);
}

#[test]
fn workplaces_messengers_and_browser_identifiers() {
    check(&engine(), &[
        // Where someone works or teaches is the employer's address.
        ("referrals", "teaching_address_line_1", None),
        ("referrals", "teaching_town_or_city", None),
        ("referrals", "organisation_town_or_city", None),
        ("referrals", "work_postcode", None),
        ("referrals", "home_town_or_city", Some("CITY")),
        // Messenger and social handles, login IPs run together, a browser's and an analytics
        // cookie's identifiers.
        ("llx_user", "jabberid", Some("USERNAME")),
        ("llx_user", "googleplus", Some("USERNAME")),
        ("llx_user", "socialnetworks", Some("USERNAME")),
        ("llx_user", "iplastlogin", Some("IP_ADDRESS")),
        ("authie_sessions", "browser_id", Some("DEVICE_ID")),
        ("bookings_placement_requests", "analytics_tracking_uuid", Some("DEVICE_ID")),
        // Keys: a credentials table's key, a remember-me serial, a web-service key; how a
        // password is encoded is no password.
        ("credentials", "key", Some("API_KEY")),
        ("customer", "remember_me_serial", Some("API_KEY")),
        ("llx_societe", "webservices_key", Some("API_KEY")),
        ("llx_user", "pass_encoding", None),
        ("users", "password_algorithm", None),
        // A company in French is a company; a referrer is a person.
        ("llx_societe", "address", None),
        ("llx_societe", "town", None),
        ("referrers", "name", Some("PERSON_NAME")),
    ]);
}

#[test]
fn uploads_authorities_and_online_visitors() {
    check(&engine(), &[
        // An image's real name and an upload's screenshot are the file's.
        ("serendipity_images", "realname", None),
        ("e107_upload", "upload_ss", None),
        ("employees", "ss", Some("NATIONAL_ID")),
        // A public authority's own contacts.
        ("regions", "teaching_authority_address", None),
        ("regions", "teaching_authority_emails", None),
        // Who is online: the visitor's user agent; a page's allowed IPs are no one's.
        ("e107_online", "online_agent", Some("DEVICE_ID")),
        ("e107_page", "page_ip_restrict", None),
        // A table of a person's email addresses, one per row.
        ("suitability_record_emails", "canonical", Some("EMAIL_ADDRESS")),
    ]);
}

#[test]
fn a_type_prefix_hides_no_name() {
    check(&engine(), &[
        // Hungarian notation: the type first, then the name.
        ("oc_t_user", "s_name", Some("PERSON_NAME")),
        ("oc_t_user", "d_coord_long", Some("GEO_COORDINATES")),
        ("oc_t_user", "s_email", Some("EMAIL_ADDRESS")),
        ("users", "str_phone", Some("PHONE_NUMBER")),
        // The name after the prefix decides, as without it: a flag, a key, a setting.
        ("oc_t_user", "b_active", None),
        ("oc_t_user", "i_items", None),
        ("oc_t_item", "s_name", None),
        // A word that is not a type prefix keeps the name whole.
        ("orders", "x_name", None),
    ]);
}

#[test]
fn an_address_line_beside_a_city_is_a_street_address() {
    let engine = engine();
    let classify = |table: &str, column: &str, siblings: &[&str]| with_siblings(&engine, table, column, siblings);
    let address = ["line1", "line2", "town", "postcode", "country"];
    assert_eq!(classify("CubeCart_addressbook", "line1", &address), Some("STREET_ADDRESS"));
    assert_eq!(classify("order_summary", "line2", &["line1", "line2", "city", "zip"]), Some("STREET_ADDRESS"));
    // Without a city or postal code beside it, a line is a line; an organisation's is its own.
    assert_eq!(classify("invoice_items", "line1", &["line1", "amount"]), None);
    assert_eq!(classify("suppliers", "line1", &address), None);
}

#[test]
fn directory_attribute_names_and_snmp_logins_are_not_a_persons() {
    check(&engine(), &[
        // The names of the LDAP attributes that hold a user's data, not the data.
        ("auth_sources", "attr_login", None),
        ("auth_sources", "attr_firstname", None),
        ("auth_sources", "attr_mail", None),
        ("authldaps", "field_email", None),
        // SNMPv3's login is a service's; a device's contact is a person.
        ("automation_devices", "snmp_username", None),
        ("automation_devices", "sysContact", Some("PERSON_NAME")),
        // The words alone still are what they name.
        ("users", "mail", Some("EMAIL_ADDRESS")),
        ("users", "firstname", Some("PERSON_NAME")),
    ]);
}

#[test]
fn plural_prefixes_short_logins_messengers_and_whole_words() {
    check(&engine(), &[
        ("orders", "customers_name", Some("PERSON_NAME")),
        ("users", "uname", Some("USERNAME")),
        ("online", "online_uname", Some("USERNAME")),
        ("users", "user_msnm", Some("USERNAME")),
        ("users", "user_aim", Some("USERNAME")),
        ("users", "actkey", Some("API_KEY")),
        ("faquser", "code_verifier", Some("API_KEY")),
        // A stop word is a word, not `sto` and a password.
        ("faqstopwords", "stopword", None),
        ("faqstopwords", "stopwords", None),
        // A code challenge is public, and a campaign's aim is no handle.
        ("oauth_requests", "code_challenge", None),
        ("campaigns", "aim", None),
    ]);
}

#[test]
fn a_prefix_of_the_tables_initials_hides_no_name() {
    check(&engine(), &[
        // `ec` is emp children, `eec` emp emergency contacts: the words after them are the name.
        ("hs_hr_emp_children", "ec_name", Some("PERSON_NAME")),
        ("hs_hr_emp_dependents", "ed_name", Some("PERSON_NAME")),
        ("hs_hr_emp_emergency_contacts", "eec_home_no", Some("PHONE_NUMBER")),
        ("hs_hr_emp_emergency_contacts", "eec_office_no", Some("PHONE_NUMBER")),
        // Initials that are not the table's say nothing, and the name after them is still read
        // as it is.
        ("hs_hr_emp_children", "xy_name", None),
        ("hs_hr_emp_children", "ec_seqno", None),
    ]);
}

#[test]
fn work_phones_insurance_numbers_logins_and_shares() {
    check(&engine(), &[
        ("hs_hr_employee", "emp_work_telephone", Some("PHONE_NUMBER")),
        ("hs_hr_employee", "emp_sin_num", Some("NATIONAL_ID")),
        ("egw_accounts", "account_lastloginfrom", Some("IP_ADDRESS")),
        ("egw_sharing", "share_passwd", Some("PASSWORD")),
        ("egw_sharing", "share_token", Some("API_KEY")),
        ("egw_addressbook", "n_family", Some("PERSON_NAME")),
        // Whether to share an email is a setting; a vCard's honorific is not a name.
        ("users", "share_email", None),
        ("egw_addressbook", "n_prefix", None),
    ]);
}

#[test]
fn registration_codes_feed_credentials_and_course_tutors() {
    check(&engine(), &[
        ("app_registers", "verify_code", Some("API_KEY")),
        ("curated_register_activities", "secret_code", Some("API_KEY")),
        ("feed", "httpAuth", Some("PASSWORD")),
        ("course", "tutor_name", Some("PERSON_NAME")),
        // Whether a code was verified, and a course's code, are not.
        ("app_registers", "verify_code_sent", None),
        ("course", "course_code", None),
    ]);
}

#[test]
fn a_networks_own_addresses_are_its_devices() {
    let engine = engine();
    let classify = |table: &str, column: &str, siblings: &[&str]| with_siblings(&engine, table, column, siblings);
    // An IP address management tool's addresses: the rows carry a subnet, so they are a plan of
    // the network, not people's visits.
    let planned = ["id", "subnetId", "ip_addr", "hostname", "mac", "owner", "switch"];
    assert_eq!(classify("ipaddresses", "ip_addr", &planned), None);
    assert_eq!(classify("ipaddresses", "mac", &planned), None);
    assert_eq!(classify("devices", "ip_addr", &["hostname", "ip_addr", "snmp_community", "snmp_version"]), None);
    // Known only by their names, the same columns are still taken for a person's.
    assert_eq!(classify("ipaddresses", "ip_addr", &[]), Some("IP_ADDRESS"));
    assert_eq!(classify("logins", "ip_addr", &["user_id", "ip_addr", "user_agent"]), Some("IP_ADDRESS"));
    check(&engine, &[
        ("bgpPeers", "bgpPeerRemoteAddr", None),
        ("artists", "name", Some("PERSON_NAME")),
    ]);
}

#[test]
fn a_tables_own_prefix_on_its_columns_is_read_past_for_evidence() {
    let engine = engine();
    let classify = |table: &str, column: &str, siblings: &[&str]| with_siblings(&engine, table, column, siblings);
    // An account one logs in to is a person's: its email is the person's.
    let login = ["account_id", "account_email", "account_password", "account_salt", "account_flags"];
    assert_eq!(classify("account", "account_email", &login), Some("EMAIL_ADDRESS"));
    assert_eq!(classify("accounts", "email", &["id", "name", "email", "password"]), Some("EMAIL_ADDRESS"));
    // Without a password the account is a ledger's or a company's, as before.
    let ledger = ["account_id", "account_email", "account_balance", "account_flags"];
    assert_eq!(classify("account", "account_email", &ledger), None);
    assert_eq!(engine.table_evidence(ledger), engine.table_evidence(["account_id", "account_email", "account_flags"]));
    // A prefix only a few columns share is not the table's: `billing_password` says nothing here.
    assert_eq!(
        engine.table_evidence(["id", "name", "email", "billing_password", "billing_plan", "notes"]),
        engine.table_evidence(["id", "name", "email", "notes"]),
    );
    assert_ne!(
        engine.table_evidence(["id", "name", "email", "password", "notes"]),
        engine.table_evidence(["id", "name", "email", "notes"]),
    );
    // Posts keep where they were written.
    check(&engine, &[("item", "coord", Some("GEO_COORDINATES"))]);
}

#[test]
fn password_tables_verification_codes_and_hashed_keys() {
    check(&engine(), &[
        ("UserPassword", "hash", Some("PASSWORD")),
        ("email_verification_codes", "code", Some("API_KEY")),
        ("api_keys", "key_hash", Some("API_KEY")),
        ("totp_recovery_codes", "code_digest", Some("API_KEY")),
        ("Booking", "smsReminderNumber", Some("PHONE_NUMBER")),
        // A password policy's value and a verification's status are no secret.
        ("password_policies", "value", None),
        ("email_verifications", "status", None),
        ("files", "content_hash", None),
    ]);
}

#[test]
fn reviews_mail_logs_and_institutions() {
    check(&engine(), &[
        ("CubeCart_reviews", "name", Some("PERSON_NAME")),
        ("article_email_log", "cc_recipients", Some("EMAIL_ADDRESS")),
        ("article_email_log", "bcc_recipients", Some("EMAIL_ADDRESS")),
        ("institutional_subscriptions", "mailing_address", None),
    ]);
}

#[test]
fn stored_forms_answers_and_name_suffixes() {
    check(&engine(), &[
        // A keyed hash or an encryption IV does not give the value back; credentials are kept
        // hashed all the same.
        ("intakes", "hashed_primary_ssn", None),
        ("bank_accounts", "hashed_account_number", None),
        ("veteran_representatives", "encrypted_ssn_iv", None),
        ("veteran_representatives", "encrypted_ssn", Some("NATIONAL_ID")),
        ("users", "hashed_password", Some("PASSWORD")),
        ("api_keys", "hashed_key", Some("API_KEY")),
        // Answers about a number are not the number.
        ("intakes", "no_ssn", None),
        ("intakes", "had_social_security_income", None),
        ("intakes", "with_itin_taxpayer_id", None),
        ("intakes", "phone_number_can_receive_texts", None),
        ("intakes", "primary_ssn", Some("NATIONAL_ID")),
        // A name's suffix on a person's row; a form field's suffix is a label's.
        ("dependents", "suffix", Some("PERSON_NAME")),
        ("customer_entity", "suffix", Some("PERSON_NAME")),
        ("form_field", "suffix", None),
        ("accounts", "edipi", Some("NATIONAL_ID")),
    ]);
}

#[test]
fn blind_indexes_requests_public_bodies_slugs_and_link_hashes() {
    check(&engine(), &[
        // A blind index is a keyed hash for look-ups; a token's is still a credential.
        ("ach_transfers", "account_number_bidx", None),
        ("api_tokens", "token_bidx", Some("API_KEY")),
        ("users", "email_hash", None),
        ("users", "password_hash", Some("PASSWORD")),
        // Kinds of documents, requests and refusals about the data.
        ("content_changes", "email_document_supertype", None),
        ("info_requests", "attention_requested", None),
        ("info_requests", "handle_rejected_responses", None),
        ("application_forms", "disclose_disability", None),
        // A public body's and a chambers' own details.
        ("public_bodies", "request_email", None),
        ("chambers", "account_number", None),
        // A person's URL slug; a post's is its own.
        ("users", "url_name", Some("USERNAME")),
        ("members", "slug", Some("USERNAME")),
        ("posts", "slug", None),
        ("donations", "url_hash", Some("API_KEY")),
        ("info_requests", "idhash", Some("API_KEY")),
    ]);
}

#[test]
fn a_places_addresses_contributors_names_slugs_of_logins_and_terms() {
    let engine = engine();
    let classify = |table: &str, column: &str, siblings: &[&str]| with_siblings(&engine, table, column, siblings);
    // A directory's addresses point at its locations: they are the places' addresses.
    let place = ["location_id", "street", "city", "zip", "attention"];
    for column in ["street", "city", "zip", "attention"] {
        assert_eq!(classify("addresses", column, &place), None, "addresses.{column} of a place");
    }
    // Known only by itself, the same table is taken for people's addresses.
    assert_eq!(classify("addresses", "street", &[]), Some("STREET_ADDRESS"));
    // A row that points at a person too keeps the person's address.
    let both = ["location_id", "user_id", "street", "city"];
    assert_eq!(classify("addresses", "street", &both), Some("STREET_ADDRESS"));
    // The reasons name the context that changed what the rules see, and nothing is said of a
    // context that only decides between others (a key to a person on a post).
    let reasons = |table: &str, column: &str, siblings: &[&str]| {
        let evidence = engine.table_evidence(siblings.iter().copied());
        let reasons = engine.classify(&ColumnRef::new(table, column).with_siblings(evidence), None).reasons;
        serde_json::to_string(&reasons).unwrap_or_default()
    };
    let shown = reasons("addresses", "street", &place);
    assert!(shown.contains(r#"{"kind":"table_columns","added":["place_address","postal_columns"]}"#), "{shown}");
    let shown = reasons("posts", "title", &["user_id", "title"]);
    assert!(!shown.contains("table_columns"), "{shown}");
    // A place's key in a person's own table says nothing of the kind.
    let user = ["location_id", "email", "city"];
    assert_eq!(classify("users", "city", &user), Some("CITY"));
    assert_eq!(classify("users", "email", &user), Some("EMAIL_ADDRESS"));
    check(&engine, &[
        // Comments, feedback and donations are left under a person's own name.
        ("comments", "name", Some("PERSON_NAME")),
        ("donations", "name", Some("PERSON_NAME")),
        ("feedbacks", "name", Some("PERSON_NAME")),
        ("preferences", "name", None),
        ("categories", "name", None),
        // A slug is a handle on a table of logins or authors; another person's record has a slug
        // that is only a key.
        ("users", "slug", Some("USERNAME")),
        ("authors", "slug", Some("USERNAME")),
        ("trainees", "slug", None),
        ("patients", "slug", None),
        // Terms of service have conditions that are not a patient's.
        ("terms_and_conditions", "title", None),
        ("conditions", "title", Some("MEDICAL_CONDITION")),
        // A prison's and a court's own contact details.
        ("prisons", "address", None),
        ("courts", "phone_no", None),
        ("visits", "prisoner_number", Some("NATIONAL_ID")),
        // A bare national insurance is the number on a person's row and an amount on a payslip.
        ("applicants", "national_insurance", Some("NATIONAL_ID")),
        ("employment_payments", "national_insurance", None),
        ("applicants", "national_insurance_number", Some("NATIONAL_ID")),
        // Plural given names and surnames.
        ("trainees", "middle_names", Some("PERSON_NAME")),
        ("people", "surnames", Some("PERSON_NAME")),
    ]);
}

#[test]
fn a_named_contact_persons_details_and_lists_of_addresses() {
    let engine = engine();
    let classify = |table: &str, column: &str, siblings: &[&str]| with_siblings(&engine, table, column, siblings);
    // A vendor's row that names its contact person: the bare email and phone are that person's.
    let vendor = ["business_name", "contact_name", "email", "phone"];
    assert_eq!(classify("vendors", "email", &vendor), Some("EMAIL_ADDRESS"));
    assert_eq!(classify("vendors", "phone", &vendor), Some("PHONE_NUMBER"));
    // Without a contact person they are the organisation's own.
    assert_eq!(classify("vendors", "email", &["business_name", "email", "phone"]), None);
    assert_eq!(classify("vendors", "phone", &[]), None);
    check(&engine, &[
        // A list of blocked addresses holds IP addresses, not streets.
        ("ipblocks", "ipb_address", Some("IP_ADDRESS")),
        ("ipblocks", "ipb_range_start", Some("IP_ADDRESS")),
        ("ip_bans", "address", Some("IP_ADDRESS")),
        ("users", "address", Some("STREET_ADDRESS")),
        // Names kept as text beside the key; user-defined text fields are not names.
        ("revision", "rev_user_text", Some("USERNAME")),
        ("recentchanges", "rc_user_text", Some("USERNAME")),
        ("patient_data", "usertext1", None),
        // People named by their role at an organisation.
        ("schools", "headteacher_name", Some("PERSON_NAME")),
        ("eligible_providers", "primary_key_contact_email_address", Some("EMAIL_ADDRESS")),
        // Providers' and nurseries' own addresses; a bank account holder's name.
        ("provider", "address1", None),
        ("eligible_ey_providers", "nursery_address", None),
        ("claims", "banking_name", Some("PERSON_NAME")),
        ("claims", "building_society_roll_number", Some("BANK_ACCOUNT")),
        // Ranges and bounds of ages are not a person's age.
        ("course", "age_range_in_years", None),
        ("schools", "statutory_high_age", None),
        ("people", "age", Some("AGE")),
        ("user", "user_email_authenticated", None),
        ("users", "identity_url", Some("USERNAME")),
    ]);
}

#[test]
fn type_prefixes_run_on_profile_pages_and_oauth_secrets() {
    check(&engine(), &[
        // Hungarian notation run on to the name: `vc` (varchar) before a known word.
        ("operator", "vclogin", Some("USERNAME")),
        ("operator", "vcpassword", Some("PASSWORD")),
        ("operator", "vcemail", Some("EMAIL_ADDRESS")),
        ("operator", "vcjabbername", Some("USERNAME")),
        ("users", "szemail", Some("EMAIL_ADDRESS")),
        // The prefix is not cut from a word known whole, nor when the rest says nothing.
        ("operator", "vcstatus", None),
        ("users", "street", Some("STREET_ADDRESS")),
        // A person's name parts after the word `person`.
        ("incident_person", "person_first", Some("PERSON_NAME")),
        ("incident_person", "person_last", Some("PERSON_NAME")),
        // The address of a person's own profile page.
        ("profile", "profileurl", Some("USERNAME")),
        ("profile", "profile_url", Some("USERNAME")),
        ("products", "profile_url", None),
        // OAuth 1.0 tokens, their verifiers and mailed confirmation codes.
        ("token", "tok", Some("API_KEY")),
        ("token", "verifier", Some("API_KEY")),
        ("confirm_address", "code", Some("API_KEY")),
        ("oauth_apps", "key", Some("API_KEY")),
        ("products", "verifier", None),
        ("countries", "code", None),
    ]);
}

#[test]
fn genotypes_public_names_messengers_and_device_codes() {
    check(&engine(), &[
        // Genetic data only as the column's head: a genotype, not what is said about one.
        ("user_snps", "local_genotype", Some("GENETIC")),
        ("genotypes", "snps", Some("GENETIC")),
        ("user_snps", "snp_name", None),
        ("users", "finished_snp_parsing", None),
        ("genotypes", "genotype_file_size", None),
        // A person's public name, a paper's authors, an instant-messaging address.
        ("people", "public_name", Some("PERSON_NAME")),
        ("tags", "public_name", None),
        // The name a member's mail is addressed to; a list's mailing name names the list.
        ("profiles", "mailing_name", Some("PERSON_NAME")),
        ("mailing_lists", "mailing_name", None),
        ("plos_papers", "first_author", Some("PERSON_NAME")),
        ("im_accounts", "im_address", Some("USERNAME")),
        ("users", "yearofbirth", Some("DATE_OF_BIRTH")),
        // OAuth device-flow codes are secrets; a product's `user_code` is not.
        ("oauth_device_flow_requests", "device_code", Some("API_KEY")),
        ("oauth_device_flow_requests", "user_code", Some("API_KEY")),
        ("products", "user_code", None),
        // A conference's own address is its organisers' office.
        ("conferences", "email", None),
        ("people", "email", Some("EMAIL_ADDRESS")),
    ]);
}

#[test]
fn aliases_of_people_pagers_and_confirmation_keys() {
    check(&engine(), &[
        // A person's or a contact's alias is the name they go by.
        ("contact", "alias", Some("USERNAME")),
        ("icinga_contacts", "alias", Some("USERNAME")),
        // A domain's, a mailbox's or an address book entry's alias is not a person's.
        ("domains", "alias", None),
        ("ps_address", "alias", None),
        // A pager's address is a number; a confirmation key is a secret.
        ("icinga_contacts", "pager_address", Some("PHONE_NUMBER")),
        ("organisers", "confirmation_key", Some("API_KEY")),
        // A number for voice calls; a course's generated registration key.
        ("users", "voice_number", Some("PHONE_NUMBER")),
        ("courses", "registration_key", Some("API_KEY")),
        ("users", "voice_enabled", None),
    ]);
}

#[test]
fn password_hints_work_factors_and_senders_of_messages() {
    check(&engine(), &[
        // A password's hint and its hashing's work factor describe the secret.
        ("CPG_albums", "alb_password_hint", None),
        ("CPG_users", "user_password_iterations", None),
        ("users", "password", Some("PASSWORD")),
        // A message's or an e-card's sender is a person; a newsletter's is the business.
        ("CPG_ecards", "sender_email", Some("EMAIL_ADDRESS")),
        ("message", "sender_email", Some("EMAIL_ADDRESS")),
        ("newsletters", "sender_email", None),
    ]);
}

#[test]
fn lookup_tables_and_names_of_mails_are_not_a_persons() {
    check(&engine(), &[
        // A lookup table holds reference data; a mail's name is not an address.
        ("postcode_lookup", "postcode", None),
        ("users", "postcode", Some("ZIPCODE")),
        ("campaigners_sent_email", "email_name", None),
        ("campaigners_sent_email", "email", Some("EMAIL_ADDRESS")),
    ]);
}

#[test]
fn an_invitations_name_is_the_invitees() {
    check(&engine(), &[
        ("invitation", "name", Some("PERSON_NAME")),
        ("Invitation", "Name", Some("PERSON_NAME")),
        ("invitation", "email", Some("EMAIL_ADDRESS")),
        // An invitation's code is still its secret.
        ("invitations", "code", Some("API_KEY")),
        ("campaigns", "name", None),
    ]);
}

#[test]
fn phone_numbers_run_together_with_no() {
    check(&engine(), &[
        ("custbranch", "phoneno", Some("PHONE_NUMBER")),
        ("custbranch", "faxno", Some("PHONE_NUMBER")),
        ("custcontacts", "telno", Some("PHONE_NUMBER")),
        ("suppliers", "phoneno", None),
    ]);
}

#[test]
fn originators_identity_stamps_and_inventoried_machines() {
    check(&engine(), &[
        // Who raised a bug is named like a reporter.
        ("bug", "originator_name", Some("PERSON_NAME")),
        // ASP.NET Identity's security stamp, a TOTP recovery code, a two-factor remember-me token.
        ("User", "SecurityStamp", Some("API_KEY")),
        ("users", "security_stamp", Some("API_KEY")),
        ("users", "totp_recover", Some("PASSWORD")),
        ("devices", "twofactor_remember", Some("API_KEY")),
        ("user", "twofactor_secret", Some("PASSWORD")),
        // An inventory's computers and network map hold the machines' addresses, not people's;
        // the login of whoever uses a computer stays personal.
        ("hardware", "IPADDR", None),
        ("netmap", "MAC", None),
        ("hardware", "username", Some("USERNAME")),
        ("users", "ipaddr", Some("IP_ADDRESS")),
    ]);
}

#[test]
fn a_named_contacts_fax_and_address_and_ibans_on_any_row() {
    let engine = engine();
    let contact = ["name", "contact_person", "contact_phone", "contact_address", "fax"];
    // Beside the contact person's name, the contact's own phone, fax and address are theirs.
    assert_eq!(with_siblings(&engine, "groups", "contact_address", &contact), Some("STREET_ADDRESS"));
    assert_eq!(with_siblings(&engine, "groups", "contact_phone", &contact), Some("PHONE_NUMBER"));
    assert_eq!(with_siblings(&engine, "suppliers", "fax", &contact), Some("PHONE_NUMBER"));
    // Without one, the organisation's address and fax stay the organisation's.
    let no_contact = ["name", "address", "fax", "vat_number"];
    assert_eq!(with_siblings(&engine, "groups", "contact_address", &no_contact), None);
    assert_eq!(with_siblings(&engine, "suppliers", "fax", &no_contact), None);
    // An IBAN is personal on any row, a supplier's included.
    check(&engine, &[("suppliers", "iban", Some("IBAN")), ("bank_transactions", "iban", Some("IBAN"))]);
}

#[test]
fn german_fon_dialled_numbers_and_health_card_numbers() {
    check(&engine(), &[
        ("kunden", "fon", Some("PHONE_NUMBER")),
        ("call_log", "number_dialed", Some("PHONE_NUMBER")),
        ("extensions", "forward_number", Some("PHONE_NUMBER")),
        ("demographic", "hin", Some("HEALTH_RECORD_ID")),
        ("demographic", "chart_no", Some("HEALTH_RECORD_ID")),
        ("fonts", "font", None),
    ]);
}

#[test]
fn sign_in_attempts_keep_peoples_addresses_beside_a_subnet() {
    let engine = engine();
    let columns = ["ip", "subnet", "action", "occurred", "metadata"];
    // A network's own address plan keeps devices' addresses; sign-in attempts keep people's,
    // even when they also note the subnet an address belongs to.
    assert_eq!(with_siblings(&engine, "bruteforce_attempts", "ip", &columns), Some("IP_ADDRESS"));
    assert_eq!(with_siblings(&engine, "ipaddresses", "ip", &columns), None);
}

#[test]
fn a_table_of_companies_and_individuals_holds_people() {
    let engine = engine();
    // Odoo's partners are companies, their contacts and private individuals in one table.
    let partner = ["name", "street", "zip", "city", "email", "phone", "vat", "is_company", "function"];
    assert_eq!(with_siblings(&engine, "res_partner", "email", &partner), Some("EMAIL_ADDRESS"));
    assert_eq!(with_siblings(&engine, "res_partner", "street", &partner), Some("STREET_ADDRESS"));
    assert_eq!(with_siblings(&engine, "res_partner", "name", &partner), Some("PERSON_NAME"));
    // A partner table with no such flag stays an organisation's.
    let company = ["name", "street", "zip", "city", "email", "phone", "vat"];
    assert_eq!(with_siblings(&engine, "res_partner", "email", &company), None);
    assert_eq!(with_siblings(&engine, "res_partner", "name", &company), None);
}

#[test]
fn first_passwords_relationship_status_and_timeouts() {
    check(&engine(), &[
        ("user", "default_password", Some("PASSWORD")),
        ("users", "temporary_password", Some("PASSWORD")),
        ("contacts", "couple_status", Some("MARITAL_STATUS")),
        // How long something lasts describes it: a setting, not the secret.
        ("companies", "default_password_timeout", None),
        ("settings", "password_lifetime", None),
        // A contact's sorted name and a login kept in lower case name a person only on a
        // person's row: a report is sorted, a repository has a lower-case name too.
        ("reports", "sort_name", None),
        ("repository", "lower_name", None),
        ("user", "lower_name", Some("USERNAME")),
    ]);
}

#[test]
fn recipients_of_mails_signed_forms_and_master_passwords() {
    check(&engine(), &[
        // Whom a queued or logged mail went to; a private message's `to_address` is a list of
        // recipients' keys, not a mailbox.
        ("dc_send_email_event", "to_address", Some("EMAIL_ADDRESS")),
        ("mail_queue", "to_address", Some("EMAIL_ADDRESS")),
        ("mod_email_queue", "to_name", Some("PERSON_NAME")),
        ("phpbb_privmsgs", "to_address", None),
        ("projects", "to_name", None),
        // Who interviewed a study's subject.
        ("event_crf", "interviewer_name", Some("PERSON_NAME")),
        // A name typed as a signature on an application; a forum user's signature is a footer,
        // and an OAuth application's signature a cryptographic one.
        ("snap_applications", "signature", Some("PERSON_NAME")),
        ("users", "signature", None),
        ("oauth_applications", "signature", None),
        // A master password and the value kept to check it.
        ("user", "masterpass_check", Some("PASSWORD")),
        ("users", "passcheck", Some("PASSWORD")),
        ("settings", "password_check_enabled", None),
        // A sign-in session's nonce is a secret; a bare request nonce is left alone.
        ("auth_user", "session_nonce", Some("API_KEY")),
        ("authorizations", "nonce", None),
        // The user agent a feed is fetched with is the server's.
        ("feeds", "user_agent", None),
        ("sessions", "user_agent", Some("DEVICE_ID")),
        // Whom a team invited is a person (a team's own mailbox is left to the labels to count).
        ("team_invites", "email", Some("EMAIL_ADDRESS")),
        ("team_requests", "email", Some("EMAIL_ADDRESS")),
        // A user agent's short form, and the random part of a user's remember-me cookies.
        ("users", "last_login_uagent", Some("DEVICE_ID")),
        ("user", "rands", Some("API_KEY")),
        ("lottery", "rands", None),
    ]);
}

#[test]
fn a_persons_city_name_social_profiles_and_a_year_of_passing_out() {
    check(&engine(), &[
        // On a person's row a city's name is where they live; in a list of places it is the place's.
        ("tabJob_Applicant", "current_location_area_and_city_name", Some("CITY")),
        ("customers", "city_name", Some("CITY")),
        ("cities", "city_name", None),
        ("warehouses", "city_name", None),
        // The year a candidate passed out of college is not a password; a bare `pass` still is.
        ("tabJob_Applicant", "year_of_pass_out", None),
        ("students", "passing_year", None),
        ("users", "pass", Some("PASSWORD")),
        // A list of a customer's profiles on social networks names their handles.
        ("customers", "social_profiles", Some("USERNAME")),
        ("posts", "social_profiles", None),
    ]);
}

#[test]
fn a_patients_habits_and_sexual_history_and_a_units_long_name() {
    check(&engine(), &[
        // The age a habit started or stopped is the patient's history, not their age.
        ("gnuhealth_patient", "age_start_drinking", Some("MEDICAL_CONDITION")),
        ("gnuhealth_patient", "age_quit_drugs", Some("MEDICAL_CONDITION")),
        ("patients", "age_at_onset", Some("MEDICAL_CONDITION")),
        ("patients", "age", Some("AGE")),
        // A sexual history's answers are health data, not the patient's sex.
        ("gnuhealth_patient", "sex_oral", Some("MEDICAL_CONDITION")),
        ("gnuhealth_patient", "sexual_partners_number", Some("MEDICAL_CONDITION")),
        ("patients", "sex", Some("GENDER")),
        // A unit's long name is not a longitude; a bare `lon` still is.
        ("quantityvalue_units", "longname", None),
        ("places", "lon", Some("GEO_COORDINATES")),
        // An invitation's key is its secret.
        ("invites", "invite_key", Some("API_KEY")),
    ]);
}

#[test]
fn approximate_ages_two_factor_secrets_and_configuration_tables() {
    check(&engine(), &[
        ("person", "approximateage", Some("AGE")),
        ("users", "tfaSecret", Some("PASSWORD")),
        ("zp_user", "twoFASecret", Some("PASSWORD")),
        ("users", "2fa_secret", Some("PASSWORD")),
        // A monitoring server's configuration keeps its administrator's mailbox and pager.
        ("cfg_nagios", "admin_email", None),
        ("cfg_nagios", "admin_pager", None),
        ("admins", "admin_email", Some("EMAIL_ADDRESS")),
    ]);
}

#[test]
fn a_seed_beside_a_password_is_its_salt() {
    let engine = engine();
    let text = ColumnType::from_declared("character_varying(16)");
    let on = |table: &str, column_type: Option<ColumnType>| {
        engine.classify(&ColumnRef::new(table, "seed").with_type(column_type), None).entity
    };
    assert_eq!(on("users", text), Some("PASSWORD"));
    // A captcha's seed is on a row of its own; a number under the name is no salt.
    assert_eq!(on("phpbb_confirm", text), None);
    assert_eq!(on("users", ColumnType::from_declared("integer")), None);
    assert_eq!(on("users", None), None);
}

#[test]
fn a_go_time_is_an_instant_that_can_hold_a_birth_date() {
    let engine = engine();
    let born = |declared: &str| {
        let column = ColumnRef::new("auth_users", "born_at").with_type(ColumnType::from_declared(declared));
        engine.classify(&column, None).entity
    };
    assert_eq!(born("time.Time"), Some("DATE_OF_BIRTH"));
    assert_eq!(born("date"), Some("DATE_OF_BIRTH"));
    // A time of day cannot hold one.
    assert_eq!(born("time"), None);
}


#[test]
fn a_clinical_forms_unnamed_columns_are_findings_but_not_its_keys_and_dates() {
    let engine = engine();
    // Eight columns that are symptoms by name make the table a clinical form, whatever it is called.
    let form = [
        "id", "case_no", "fever", "cough", "headache", "nausea", "vomiting", "diarrhea", "rash", "fatigue",
        "kopliksspots", "pg1_ectopic", "created_date", "onset", "occupation",
    ];
    let classify = |column: &str, column_type: Option<&str>, siblings: &[&str]| {
        let evidence = engine.table_evidence(siblings.iter().copied());
        let column = ColumnRef::new("intake_answers", column)
            .with_siblings(evidence)
            .with_type(column_type.and_then(ColumnType::from_declared));
        engine.classify(&column, None)
    };
    let finding = classify("kopliksspots", Some("varchar(20)"), &form);
    assert_eq!(finding.entity, Some("MEDICAL_CONDITION"));
    assert!(
        format!("{:?}", finding.reasons).contains("medical_condition.finding_on_a_clinical_form"),
        "{:?}",
        finding.reasons
    );
    assert_eq!(classify("pg1_ectopic", Some("tinyint(1)"), &form).entity, Some("MEDICAL_CONDITION"));
    assert_eq!(classify("pg1_ectopic", None, &form).entity, Some("MEDICAL_CONDITION"));
    // The record's own columns: its keys, its dates (by name or by type), the social lines.
    for (column, column_type) in
        [("id", Some("int")), ("case_no", None), ("created_date", None), ("onset", Some("timestamp")), ("occupation", None)]
    {
        assert_eq!(classify(column, column_type, &form).entity, None, "{column}");
    }
    // Seven symptoms are not enough to call the table a form; nor are the columns unknown.
    let fewer: Vec<&str> = form.iter().copied().filter(|column| *column != "fatigue").collect();
    assert_eq!(classify("kopliksspots", Some("varchar(20)"), &fewer).entity, None);
    assert_eq!(classify("kopliksspots", Some("varchar(20)"), &[]).entity, None);
    // A symptom column on a table that is not a form still needs its name.
    assert_eq!(with_siblings(&engine, "users", "shoe_size", &["id", "email", "fever", "cough"]), None);
}

#[test]
fn insurance_numbers_scram_verifiers_birth_times_face_vectors_and_rosters() {
    let engine = engine();
    check(
        &engine,
        &[
            ("patient", "MEDICARE_ID", Some("HEALTH_RECORD_ID")),
            ("patient", "medicaid_id", Some("HEALTH_RECORD_ID")),
            ("patient", "BIRTH_TIME", Some("DATE_OF_BIRTH")),
            ("ofUserScram", "storedKey", Some("PASSWORD")),
            ("ofUserScram", "serverKey", Some("PASSWORD")),
            ("users", "face_vector", Some("BIOMETRIC")),
            // A billing form's Medicaid codes are the claim's, not the patient's number.
            ("form_misc_billing_options", "medicaid_resubmission_code", None),
        ],
    );
    // A chat roster's rows are a user's contacts: their nickname is a person's.
    assert!(engine.classify(&ColumnRef::new("ofRoster", "nick"), None).is_sensitive());
    assert!(!engine.classify(&ColumnRef::new("ofProperty", "nick"), None).is_sensitive());
}

#[test]
fn a_bare_contact_kept_as_text_names_a_person_and_makes_the_rows_contacts_details_theirs() {
    let engine = engine();
    let typed = |table: &str, column: &str, declared: &str, siblings: &[&str]| {
        let column = ColumnRef::new(table, column)
            .with_siblings(engine.table_evidence(siblings.iter().copied()))
            .with_type(ColumnType::from_declared(declared));
        engine.classify(&column, None).entity
    };
    let supplier = ["id", "name", "address", "contact", "phone", "fax", "email", "url"];
    assert_eq!(typed("suppliers", "contact", "string", &supplier), Some("PERSON_NAME"));
    // The supplier's phone and email are its contact person's, once the table names one.
    assert_eq!(typed("suppliers", "phone", "string", &supplier), Some("PHONE_NUMBER"));
    assert_eq!(typed("suppliers", "email", "string", &supplier), Some("EMAIL_ADDRESS"));
    let without = ["id", "name", "address", "phone", "fax", "email", "url"];
    assert_eq!(typed("suppliers", "email", "string", &without), None);
    // A number under the name is a key to a contact's row, a flag a consent.
    assert_eq!(typed("suppliers", "contact", "int(10)", &supplier), None);
    assert_eq!(typed("users", "contact", "boolean", &["id", "contact"]), None);
    // Reset and remember-me codes kept on the account, and an analytics tool's device identifier.
    check(
        &engine,
        &[
            ("users", "reset_password_code", Some("API_KEY")),
            ("users", "persist_code", Some("API_KEY")),
            ("posthog_persondistinctid", "distinct_id", Some("DEVICE_ID")),
        ],
    );
}

#[test]
fn dav_principals_vcards_postal_pins_blood_pressure_and_a_clinics_patient_numbers() {
    let engine = engine();
    // A CalDAV or CardDAV server: the principal's URI ends in the login, its display name is the
    // user's, and a card's data is a contact's vCard, not a payment card.
    check(
        &engine,
        &[
            ("addressbooks", "principaluri", Some("USERNAME")),
            ("calendarinstances", "principaluri", Some("USERNAME")),
            ("principals", "uri", Some("USERNAME")),
            ("principals", "displayname", Some("PERSON_NAME")),
            ("calendars", "uri", None),
            ("users", "digesta1", Some("PASSWORD")),
        ],
    );
    let cards = ["id", "addressbookid", "carddata", "uri", "lastmodified", "etag", "size"];
    assert_eq!(with_siblings(&engine, "cards", "carddata", &cards), Some("PERSON_NAME"));
    assert_eq!(with_siblings(&engine, "payments", "card_data", &["id", "amount", "card_data"]), Some("CREDIT_CARD"));
    // An address's `pin` is India's postal index number; anywhere else a PIN is a secret.
    let address = ["id", "street_address", "village_or_colony", "district", "state", "pin"];
    assert_eq!(with_siblings(&engine, "addresses", "pin", &address), Some("ZIPCODE"));
    assert_eq!(with_siblings(&engine, "cards", "pin", &["id", "number", "pin"]), Some("PASSWORD"));
    assert_eq!(with_siblings(&engine, "intakes", "primary_signature_pin", &["first_name", "city", "primary_signature_pin"]), Some("PASSWORD"));
    check(
        &engine,
        &[
            // Vital signs, and why a record was deleted or a patient could not be reached.
            ("blood_pressures", "systolic", Some("MEDICAL_CONDITION")),
            ("vitals", "bp_diastolic", Some("MEDICAL_CONDITION")),
            ("patients", "deleted_reason", None),
            ("patients", "could_not_contact_reason", None),
            ("patients", "reason", Some("MEDICAL_CONDITION")),
            // A clinic's number for its patient, their insurance policy and birth certificate.
            ("patients", "display_id", Some("HEALTH_RECORD_ID")),
            ("conversations", "display_id", None),
            ("patient_additional_data", "insurer_policy_number", Some("HEALTH_RECORD_ID")),
            ("patient_additional_data", "birth_certificate", Some("NATIONAL_ID")),
            ("patients", "birth_date", Some("DATE_OF_BIRTH")),
            // Names kept for search and in the person's own culture; a researcher's ORCID iD; an
            // activation link's hash.
            ("contact_info", "unaccented_name", Some("PERSON_NAME")),
            ("patients", "cultural_name", Some("PERSON_NAME")),
            ("contact_info", "orcid", Some("USERNAME")),
            ("ab_register_user", "registration_hash", Some("API_KEY")),
        ],
    );
}

#[test]
fn address_parts_beside_a_city_a_name_beside_an_email_abbreviated_audit_columns_and_stored_secrets() {
    let engine = engine();
    // The parts of an address kept beside its city or postal code; without them, a `building` or
    // a `neighborhood` is a thing's own field.
    let address = ["id", "party", "party_name", "building_name", "building_number", "unit_number", "floor_number", "room_number", "post_box", "private_bag", "post_office", "street", "postal_code", "city"];
    for column in ["building_name", "building_number", "unit_number", "floor_number", "room_number", "post_box", "private_bag", "post_office"] {
        assert_eq!(with_siblings(&engine, "party_address", column, &address), Some("STREET_ADDRESS"), "{column}");
    }
    assert_eq!(with_siblings(&engine, "party_address", "party_name", &address), Some("PERSON_NAME"));
    let place = ["id", "name", "street1", "building", "neighborhood", "city", "postal_code"];
    assert_eq!(with_siblings(&engine, "places", "building", &place), Some("STREET_ADDRESS"));
    assert_eq!(with_siblings(&engine, "places", "neighborhood", &place), Some("CITY"));
    assert_eq!(with_siblings(&engine, "campuses", "building", &["id", "building", "capacity"]), None);
    assert_eq!(with_siblings(&engine, "suppliers", "building", &["id", "building", "city"]), None);
    // A bare `name` beside a bare `email` is the name of whoever the address belongs to, unless
    // the row is a team's, an organisation's or an account's.
    let report = ["id", "event_id", "name", "email", "comments"];
    assert_eq!(with_siblings(&engine, "UserReport", "name", &report), Some("PERSON_NAME"));
    assert_eq!(with_siblings(&engine, "teams", "name", &["id", "name", "email"]), None);
    assert_eq!(with_siblings(&engine, "organisations", "name", &["id", "name", "email"]), None);
    assert_eq!(with_siblings(&engine, "reports", "name", &["id", "name", "query"]), None);
    // Zones of a map have coordinates that are nobody's position.
    let zones = ["id", "code", "name", "level_id", "catchment_population", "latitude", "longitude"];
    assert_eq!(with_siblings(&engine, "geographic_zones", "latitude", &zones), None);
    assert_eq!(with_siblings(&engine, "addresses", "latitude", &["id", "latitude"]), Some("GEO_COORDINATES"));
    // Abbreviated audit columns kept as text hold the login of who created or changed the row.
    for column in ["cr_by", "upd_by", "last_modifier"] {
        let typed = ColumnRef::new("applicant_demographic", column).with_type(ColumnType::from_declared("character varying(256)"));
        assert_eq!(engine.classify(&typed, None).entity, Some("USERNAME"), "{column}");
        let key = ColumnRef::new("applicant_demographic", column).with_type(ColumnType::from_declared("integer"));
        assert_eq!(engine.classify(&key, None).entity, None, "{column} as a key");
    }
    // A password manager's stored secret; a setting's value is not one.
    check(&engine, &[("secrets", "data", Some("PASSWORD")), ("settings", "value", None), ("events", "data", None)]);
}

#[test]
fn login_ids_in_tables_of_generated_ids_second_factors_and_addresses_to_verify() {
    let engine = engine();
    // A run-together `userid` kept as text is the login (webERP's audit trail), unless the table
    // is keyed by generated text ids (Mattermost's 26-character ids): then it is one of them.
    let userid = |siblings: &[(&str, &str)]| typed_with_siblings(&engine, "sessions", "userid", "varchar(26)", siblings);
    assert_eq!(userid(&[("id", "varchar(26)"), ("token", "varchar(26)"), ("userid", "varchar(26)")]), None);
    assert_eq!(userid(&[("id", "int(11)"), ("transactiondate", "datetime"), ("userid", "varchar(20)")]), Some("USERNAME"));
    let number = ColumnRef::new("audittrail", "userid").with_type(ColumnType::from_declared("integer"));
    assert_eq!(engine.classify(&number, None).entity, None);
    // A date of the last password change is not the password.
    check(&engine, &[("users", "last_pw_change", None), ("users", "passChange", None), ("users", "pw", Some("PASSWORD"))]);
    // A pre-shared key and a YubiKey's or a temporary second factor's key are secrets.
    check(&engine, &[
        ("users", "psk", Some("PASSWORD")),
        ("users", "encrypted_psk", Some("PASSWORD")),
        ("users", "yubico_user_key", Some("API_KEY")),
        ("users", "key_tempo", Some("API_KEY")),
        ("users", "ga_temporary_code", Some("API_KEY")),
    ]);
    // A Google Authenticator secret under its initials, only as text on a person's row.
    let ga = |table: &str, declared: &str| {
        engine.classify(&ColumnRef::new(table, "ga").with_type(ColumnType::from_declared(declared)), None).entity
    };
    assert_eq!(ga("users", "varchar(50)"), Some("PASSWORD"));
    assert_eq!(ga("users", "tinyint(1)"), None);
    assert_eq!(ga("meetings", "varchar(50)"), None);
    // An identity server's addresses to verify or to recover an account with: the `value` is the
    // address, the `code` the secret sent to it; a recovery table's bare `value` stays a secret.
    check(&engine, &[
        ("identity_recovery_addresses", "value", Some("EMAIL_ADDRESS")),
        ("identity_verifiable_addresses", "value", Some("EMAIL_ADDRESS")),
        ("identity_verifiable_addresses", "code", Some("API_KEY")),
        ("password_recovery", "value", Some("API_KEY")),
    ]);
}

#[test]
fn a_persons_pin_code_without_an_address_the_parts_of_a_geocoded_address_and_sessions_of_work() {
    let engine = engine();
    // A `pin_code` on a login's row (with a password) without an address is a PIN; beside a city,
    // or with the table's columns unknown, it is India's postal code.
    assert_eq!(with_siblings(&engine, "user", "pinCode", &["id", "email", "name", "password", "pinCode"]), Some("PASSWORD"));
    assert_eq!(with_siblings(&engine, "user", "pinCode", &["id", "email", "name", "pinCode"]), Some("ZIPCODE"));
    check(&engine, &[("users", "pin_code", Some("ZIPCODE"))]);
    let student = ["id", "first_name", "address_line1", "city", "state", "pin_code"];
    assert_eq!(with_siblings(&engine, "students", "pin_code", &student), Some("ZIPCODE"));
    assert_eq!(with_siblings(&engine, "addresses", "pincode", &["id", "line1", "pincode"]), Some("ZIPCODE"));
    // A geocoded address keeps its street under OpenStreetMap's `road` and the whole address as
    // its `display_name`.
    let geocoded = ["id", "display_name", "latitude", "longitude", "name", "house_number", "road", "city", "postcode", "country"];
    assert_eq!(with_siblings(&engine, "addresses", "road", &geocoded), Some("STREET_ADDRESS"));
    assert_eq!(with_siblings(&engine, "addresses", "display_name", &geocoded), Some("STREET_ADDRESS"));
    assert_eq!(with_siblings(&engine, "trips", "road", &["id", "road", "distance"]), None);
    assert_eq!(with_siblings(&engine, "users", "display_name", &["id", "display_name", "email"]), Some("PERSON_NAME"));
    // An import's or an upload's session is not a login session: its text `id` is a key.
    let id = |table: &str| {
        let evidence = engine.table_evidence([("id", ColumnType::from_declared("text")), ("user_id", ColumnType::from_declared("text")), ("status", ColumnType::from_declared("text"))]);
        engine.classify(&ColumnRef::new(table, "id").with_siblings(evidence).with_type(ColumnType::from_declared("text")), None).entity
    };
    assert_eq!(id("import_sessions"), None);
    assert_eq!(id("upload_sessions"), None);
    assert_eq!(id("sessions"), Some("API_KEY"));
}

#[test]
fn a_token_tables_access_and_refresh_and_database_connection_strings() {
    let engine = engine();
    // A token table's `access` and `refresh` kept as text are the tokens; a level of access or a
    // flag elsewhere is not.
    assert_eq!(typed(&engine, "tokens", "access", "varchar"), Some("API_KEY"));
    assert_eq!(typed(&engine, "tokens", "refresh", "varchar"), Some("API_KEY"));
    assert_eq!(typed(&engine, "tokens", "access", "boolean"), None);
    assert_eq!(typed(&engine, "users", "access", "varchar"), None);
    assert_eq!(typed(&engine, "dashboards", "refresh", "varchar"), None);
    // A database connection string carries its password.
    check(&engine, &[
        ("monitor", "database_connection_string", Some("PASSWORD")),
        ("data_sources", "connectionString", Some("PASSWORD")),
        ("monitor", "connection_timeout", None),
    ]);
}

#[test]
fn performers_kept_as_text_reset_codes_and_revoked_tokens() {
    let engine = engine();
    // A song's artist kept as text is the performer's name; a number is a key to the artists.
    assert_eq!(typed(&engine, "media_file", "artist", "varchar(255)"), Some("PERSON_NAME"));
    assert_eq!(typed(&engine, "album", "album_artist", "varchar(255)"), Some("PERSON_NAME"));
    assert_eq!(typed(&engine, "deleted_song", "artist", "int(11)_unsigned"), None);
    // A password reset's code kept as a UUID is a secret; revoked tokens open nothing.
    check(&engine, &[
        ("harbor_user", "reset_uuid", Some("API_KEY")),
        ("blacklisted_tokens", "token", None),
        ("revoked_tokens", "token_hash", None),
        ("api_tokens", "token", Some("API_KEY")),
    ]);
}

#[test]
fn invitation_links_mail_server_settings_and_token_tables_with_a_token_column() {
    let engine = engine();
    // An invitation's link and UUID are what the invitee is sent; a token's UUID elsewhere is not.
    let invitation = [("id", "integer"), ("uuid", "string"), ("email", "string"), ("link", "string")];
    assert_eq!(typed_with_siblings(&engine, "team_invitations", "link", "string", &invitation), Some("API_KEY"));
    assert_eq!(typed_with_siblings(&engine, "team_invitations", "uuid", "string", &invitation), Some("API_KEY"));
    assert_eq!(typed_with_siblings(&engine, "user_reputation_tokens", "uuid", "uuid", &[("id", "integer"), ("uuid", "uuid")]), None);
    // A token table's text `id` is the token unless the token has a column of its own.
    let own = [("id", "string"), ("user_id", "integer"), ("token", "string")];
    assert_eq!(typed_with_siblings(&engine, "unsubscribe_tokens", "id", "string", &own), None);
    assert_eq!(typed_with_siblings(&engine, "api_keys", "id", "string", &[("id", "string"), ("user_id", "integer"), ("last_used_at", "datetime")]), Some("API_KEY"));
    // A mail server's settings kept together hold its password.
    check(&engine, &[("servers", "smtp_attributes", Some("PASSWORD")), ("servers", "smtp_port", None)]);
}

#[test]
fn srp_verifiers_protected_keys_their_tags_and_viewers() {
    let engine = engine();
    // A verifier kept beside a salt is derived from the password; elsewhere a verifier is a
    // token table's (OAuth's PKCE verifier) or nothing.
    let keys = ["id", "salt", "verifier", "protectedKey", "protectedKeyTag", "protectedKeyIV"];
    assert_eq!(with_siblings(&engine, "user_encryption_keys", "verifier", &keys), Some("PASSWORD"));
    assert_eq!(with_siblings(&engine, "user_encryption_keys", "protectedKey", &keys), Some("API_KEY"));
    // The authentication tag and IV stored beside an encrypted secret are not the secret.
    assert_eq!(with_siblings(&engine, "user_encryption_keys", "protectedKeyTag", &keys), None);
    assert_eq!(with_siblings(&engine, "ldap_configs", "bindPassTag", &["id", "bindPass", "bindPassIV", "bindPassTag"]), None);
    assert_eq!(with_siblings(&engine, "ldap_configs", "bindPass", &["id", "bindPass", "bindPassIV", "bindPassTag"]), Some("PASSWORD"));
    assert_eq!(with_siblings(&engine, "experiments", "verifier", &["id", "verifier", "result"]), None);
    // Who viewed a shared document.
    check(&engine, &[("View", "viewerName", Some("PERSON_NAME"))]);
}

#[test]
fn matrix_localparts_and_third_party_identifiers() {
    let engine = engine();
    // The user part of a Matrix user id kept as text is the login; a number is not one.
    assert_eq!(typed(&engine, "userapi_accounts", "localpart", "text"), Some("USERNAME"));
    assert_eq!(typed(&engine, "device_devices", "localpart", "text"), Some("USERNAME"));
    assert_eq!(typed(&engine, "counters", "localpart", "bigint"), None);
    // A third-party identifier bound to the account is its email address (or phone number).
    assert_eq!(typed(&engine, "userapi_threepids", "threepid", "text"), Some("EMAIL_ADDRESS"));
    assert_eq!(typed(&engine, "userapi_threepids", "medium", "text"), None);
    // What an identity provider keeps of an upstream login to refresh it.
    check(&engine, &[("refresh_token", "connector_data", Some("API_KEY")), ("connector", "connector_type", None)]);
}

#[test]
fn audit_ids_kept_as_text_and_the_names_of_who_created_a_record() {
    let engine = engine();
    // Care2x keeps who created or changed a row under `create_id` and `modify_id`, as text: the
    // user, not a key. A number under the same name is a key; so is a text id in a table keyed
    // by generated text ids.
    let audit = |declared: &str, siblings: &[(&str, &str)]| typed_with_siblings(&engine, "care_appointment", "create_id", declared, siblings);
    let care = [("nr", "int(11)"), ("pid", "int(11)"), ("create_id", "varchar(35)"), ("modify_id", "varchar(35)")];
    assert_eq!(audit("varchar(35)", &care), Some("USERNAME"));
    assert_eq!(audit("int(11)", &care), None);
    assert_eq!(audit("varchar(36)", &[("id", "varchar(36)"), ("create_id", "varchar(36)")]), None);
    // The name of whoever created or last changed a record, kept on it.
    check(&engine, &[("main_bgchecks_summary", "createdname", Some("PERSON_NAME")), ("main_bgchecks_summary", "modifiedname", Some("PERSON_NAME"))]);
    // Who opened, was given or last edited something, kept as text, is the account's login; a
    // number under the same name is a key.
    for column in ["openedBy", "assignedTo", "lastEditedBy", "scriptedBy", "lastRunner"] {
        assert_eq!(typed(&engine, "zt_bug", column, "varchar(30)"), Some("USERNAME"), "{column}");
        assert_eq!(typed(&engine, "zt_bug", column, "mediumint(8)"), None, "{column} as a key");
    }
    // A show's owner is a person, even where the show's own contacts are not.
    check(&engine, &[
        ("podcasts", "owner_name", Some("PERSON_NAME")),
        ("podcasts", "owner_email", Some("EMAIL_ADDRESS")),
        ("podcasts", "email", None),
    ]);
}

#[test]
fn a_user_agent_abbreviated_beside_an_ip_address_and_a_token_digest_named_by_its_algorithm() {
    let engine = engine();
    // `ua` beside the request's IP address is the same request's user agent; alone it is not.
    assert_eq!(with_siblings(&engine, "submitters", "ua", &["email", "ua", "ip", "sent_at"]), Some("DEVICE_ID"));
    assert_eq!(with_siblings(&engine, "Ping", "ua", &["owner_id", "remote_addr", "method", "ua"]), Some("DEVICE_ID"));
    assert_eq!(with_siblings(&engine, "translations", "ua", &["en", "de", "ua"]), None);
    // A token's digest kept under its hash algorithm's name is a credential; a file's is not.
    check(&engine, &[("access_tokens", "sha256", Some("API_KEY")), ("completed_documents", "sha256", None), ("media", "sha1", None)]);
}

#[test]
fn a_list_of_a_persons_numbers_in_one_column() {
    let engine = engine();
    check(&engine, &[
        ("persons", "contact_numbers", Some("PHONE_NUMBER")),
        ("contacts", "phone_numbers", Some("PHONE_NUMBER")),
        ("persons", "contact_count", None),
    ]);
}

#[test]
fn ship_to_columns_run_together_and_the_reading_of_a_japanese_name() {
    let engine = engine();
    // An order's ship-to and bill-to details, run together with their prefix.
    check(&engine, &[
        ("shipto", "shiptoname", Some("PERSON_NAME")),
        ("shipto", "shiptoaddress1", Some("STREET_ADDRESS")),
        ("shipto", "shiptocity", Some("CITY")),
        ("shipto", "shiptozipcode", Some("ZIPCODE")),
        ("shipto", "shiptophone", Some("PHONE_NUMBER")),
        ("invoices", "billtoname", Some("PERSON_NAME")),
        ("shipto", "shiptocountry", None),
        ("shipto", "shiptostate", None),
    ]);
    // The phonetic reading of a customer's family and given names.
    check(&engine, &[("dtb_customer", "kana01", Some("PERSON_NAME")), ("dtb_order", "kana02", Some("PERSON_NAME")), ("dtb_product", "kana_flag", None)]);
}

#[test]
fn lists_of_users_kept_as_text_and_mail_and_sound_settings() {
    let engine = engine();
    // A list of users, members or administrators kept as text holds their logins; a number is a
    // count.
    assert_eq!(typed(&engine, "x2_roles", "users", "text"), Some("USERNAME"));
    assert_eq!(typed(&engine, "zt_company", "admins", "char(255)"), Some("USERNAME"));
    assert_eq!(typed(&engine, "ftp_groups", "members", "longtext"), Some("USERNAME"));
    assert_eq!(typed(&engine, "forums", "users", "int(11)"), None);
    // How mail is sent and what a login sounds like are settings, not an address or a login.
    check(&engine, &[
        ("x2_admin", "emailUseAuth", None),
        ("x2_admin", "emailSecurity", None),
        ("x2_profile", "loginSound", None),
        ("x2_profile", "emailAddress", Some("EMAIL_ADDRESS")),
    ]);
}

#[test]
fn a_business_key_in_an_address_table_and_a_persons_voice_line() {
    let engine = engine();
    // An address table keyed to a fulfilment partner or a company holds the business's
    // addresses; keyed to a user, the person's.
    let partner = ["first_name", "last_name", "line1", "line2", "line4", "postcode", "partner_id"];
    assert_eq!(with_siblings(&engine, "PartnerAddress", "line1", &partner), None);
    assert_eq!(with_siblings(&engine, "PartnerAddress", "postcode", &partner), None);
    let company = ["company_id", "title", "line1", "line2", "postal_code", "postal_city", "country"];
    assert_eq!(with_siblings(&engine, "Address", "postal_city", &company), None);
    let user = ["line1", "line2", "line4", "postcode", "user_id"];
    assert_eq!(with_siblings(&engine, "UserAddress", "line1", &user), Some("STREET_ADDRESS"));
    let both = ["line1", "postcode", "user_id", "company_id"];
    assert_eq!(with_siblings(&engine, "addresses", "postcode", &both), Some("ZIPCODE"));
    // A person's voice line; a voice elsewhere is not a number.
    check(&engine, &[("Profile", "voice", Some("PHONE_NUMBER")), ("recordings", "voice", None)]);
}

#[test]
fn a_roll_number_alone_is_a_pupils_and_a_building_societys_is_an_account() {
    let engine = engine();
    check(&engine, &[
        ("op_student_course", "roll_number", None),
        ("claims", "building_society_roll_number", Some("BANK_ACCOUNT")),
        ("payees", "society_roll_number", Some("BANK_ACCOUNT")),
    ]);
}

#[test]
fn the_hash_in_an_invitation_link() {
    let engine = engine();
    check(&engine, &[
        ("workspace", "inviteHash", Some("API_KEY")),
        ("invites", "invitation_hash", Some("API_KEY")),
        ("invites", "invite_hash_algorithm", None),
    ]);
}

#[test]
fn who_reported_or_owns_a_ticket_kept_as_text_the_address_a_change_came_from_and_a_magic_link() {
    let engine = engine();
    // Trac keeps the reporter's and the owner's logins as text; a number is a key.
    assert_eq!(typed(&engine, "ticket", "reporter", "text"), Some("USERNAME"));
    assert_eq!(typed(&engine, "ticket", "owner", "text"), Some("USERNAME"));
    assert_eq!(typed(&engine, "playlist", "owner", "int(11)"), None);
    check(&engine, &[
        ("ticket_change", "ipnr", Some("IP_ADDRESS")),
        ("users", "magic_url", Some("API_KEY")),
        ("registrations", "magic_url_expiry", None),
    ]);
}
