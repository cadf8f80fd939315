use super::*;

#[test]
fn email_accepts_common_addresses_and_rejects_look_alikes() {
    for valid in ["jane.doe@example.com", "a+tag@sub.example.co.uk", "o'brien@example.ie", "müller@例え.jp"] {
        assert!(is_email(valid), "{valid}");
    }
    for invalid in ["jane", "@example.com", "jane@", "jane@localhost", "jane@@x.com", "jane doe@x.com", ".jane@x.com", "jane..d@x.com", "a@1.2.3.4", "a@x.c"] {
        assert!(!is_email(invalid), "{invalid}");
    }
}

#[test]
fn phone_accepts_international_and_national_forms() {
    for valid in ["+14155552671", "+44 20 7946 0958", "+49 (30) 1234-5678", "030 12345678", "07911 123456", "(415) 555-2671", "415-555-2671", "0033 1 42 68 53 00"] {
        assert!(is_phone(valid), "{valid}");
    }
    for invalid in ["4155552671", "12345", "+1234", "2024-01-15", "+0 123 456 789", "000-000-0000", "abc-def-ghij", "1.5", "15.03.1985"] {
        assert!(!is_phone(invalid), "{invalid}");
    }
}

#[test]
fn postal_codes_of_several_countries() {
    for valid in ["94105", "94105-1234", "10115", "75008", "1012 AB", "1012AB", "SW1A 1AA", "M1 1AE", "EC1A 1BB"] {
        assert!(is_postal_code(valid), "{valid}");
    }
    for invalid in ["9410", "941051", "0123 AB", "1012 SS", "SW1A1AA X", "hello", "94105-12"] {
        assert!(!is_postal_code(invalid), "{invalid}");
    }
}

#[test]
fn gender_values_in_several_languages() {
    for valid in ["M", "f", "Female", "diverse", "Frau", "homme", "mujer", "donna", "vrouw", "kobieta", "non-binary"] {
        assert!(is_gender(valid), "{valid}");
    }
    for invalid in ["yes", "42", "maybe", ""] {
        assert!(!is_gender(invalid), "{invalid}");
    }
}

#[test]
fn dates_parse_in_several_formats_and_reject_times_of_day() {
    let expected = CivilDate::new(1985, 3, 2);
    for written in ["1985-03-02", "1985/03/02", "19850302", "02.03.1985", "02/03/1985", "1985-03-02T00:00:00Z", "1985-03-02 00:00:00"] {
        assert_eq!(parse_date(written), expected, "{written}");
    }
    assert_eq!(parse_date("12/31/1985"), CivilDate::new(1985, 12, 31), "month first when day first is impossible");
    for invalid in ["1985-02-30", "2023-13-01", "1985-03-02T14:22:10Z", "85-03-02", "hello", "1985-03", "1985-03-02-01"] {
        assert_eq!(parse_date(invalid), None, "{invalid}");
    }
    assert!(CivilDate::new(2024, 2, 29).is_some(), "leap year");
    assert!(CivilDate::new(1900, 2, 29).is_none(), "century is not a leap year");
    assert!(CivilDate::new(2000, 2, 29).is_some(), "every fourth century is");
}

#[test]
fn birth_dates_are_between_zero_and_one_hundred_twenty_years_ago() {
    let today = CivilDate { year: 2025, month: 6, day: 15 };
    assert!(is_plausible_birth_date("1985-03-02", today));
    assert!(is_plausible_birth_date("2025-06-15", today), "born today");
    assert!(is_plausible_birth_date("1905-06-15", today), "exactly 120");
    assert!(!is_plausible_birth_date("1904-06-14", today), "121 years old");
    assert!(!is_plausible_birth_date("2025-06-16", today), "in the future");
    assert!(!is_plausible_birth_date("1899-01-01", today));
}

#[test]
fn civil_date_from_unix_seconds() {
    assert_eq!(CivilDate::from_unix_seconds(0), CivilDate { year: 1970, month: 1, day: 1 });
    assert_eq!(CivilDate::from_unix_seconds(951_782_400), CivilDate { year: 2000, month: 2, day: 29 });
    assert_eq!(CivilDate::from_unix_seconds(-86_400), CivilDate { year: 1969, month: 12, day: 31 });
    let born = CivilDate { year: 1985, month: 3, day: 2 };
    assert_eq!(born.years_until(CivilDate { year: 2025, month: 3, day: 1 }), 39);
    assert_eq!(born.years_until(CivilDate { year: 2025, month: 3, day: 2 }), 40);
}

#[test]
fn credit_cards_need_luhn_issuer_and_length() {
    for valid in [
        "4111111111111111", "4111 1111 1111 1111", "4111-1111-1111-1111", "5555555555554444",
        "2221000000000009", "378282246310005", "6011111111111117", "3530111333300000",
        "30569309025904", "6200000000000005",
    ] {
        assert!(is_credit_card(valid), "{valid}");
    }
    for invalid in [
        "4111111111111112",    // Luhn fails
        "1111111111111117",    // no issuer starts with 1
        "378282246310005000", // Amex has 15 digits
        "0000000000000000",
        "4111 1111 1111 111a",
        "79927398713",        // Luhn-valid but too short and no issuer
    ] {
        assert!(!is_credit_card(invalid), "{invalid}");
    }
    assert!(luhn_valid(b"79927398713"));
    assert!(!luhn_valid(b"79927398710"));
}

#[test]
fn iban_needs_country_length_and_mod_97() {
    for valid in ["DE89370400440532013000", "DE89 3704 0044 0532 0130 00", "GB82WEST12345698765432", "fr1420041010050500013m02606", "NL91ABNA0417164300"] {
        assert!(is_iban(valid), "{valid}");
    }
    for invalid in ["DE89370400440532013001", "DE8937040044053201300", "XX89370400440532013000", "GB82WEST1234569876543", "DE893704004405320130O0"] {
        assert!(!is_iban(invalid), "{invalid}");
    }
}

#[test]
fn us_ssn_area_group_and_serial_rules() {
    assert!(is_us_ssn("123-45-6789"));
    assert!(is_us_ssn("123 45 6789"));
    for invalid in ["000-12-3456", "666-12-3456", "900-12-3456", "123-00-4567", "123-45-0000", "123456789", "12-345-6789"] {
        assert!(!is_us_ssn(invalid), "{invalid}");
    }
}

#[test]
fn uk_nino_prefix_and_suffix_rules() {
    assert!(is_uk_nino("AB123456C"));
    assert!(is_uk_nino("ab 12 34 56 c"));
    for invalid in ["QQ123456C", "DA123456A", "AO123456A", "GB123456A", "AB123456E", "AB12345C"] {
        assert!(!is_uk_nino(invalid), "{invalid}");
    }
}

#[test]
fn german_tax_id_check_digit_and_repetition() {
    assert!(is_de_tax_id("86095742719"));
    assert!(is_de_tax_id("47036892816"));
    assert!(!is_de_tax_id("86095742718"), "wrong check digit");
    assert!(!is_de_tax_id("06095742719"), "leading zero");
    assert!(!is_de_tax_id("12345678903"), "no repeated digit");
}

#[test]
fn french_nir_key_including_corsica() {
    assert!(is_fr_nir("185057800608491"));
    assert!(is_fr_nir("1 85 05 78 006 084 91"));
    assert!(is_fr_nir("185052A00608435"), "Corsica 2A counts as 19");
    assert!(!is_fr_nir("185057800608492"), "wrong key");
    assert!(!is_fr_nir("585057800608491"), "no such sex digit");
    assert!(!is_fr_nir("18513780060849"), "too short");
}

#[test]
fn spanish_dni_and_nie_letters() {
    assert!(is_es_dni_or_nie("12345678Z"));
    assert!(is_es_dni_or_nie("X1234567L"));
    assert!(is_es_dni_or_nie("12345678-z"));
    assert!(!is_es_dni_or_nie("12345678A"));
    assert!(!is_es_dni_or_nie("W1234567L"));
}

#[test]
fn italian_codice_fiscale_check_character() {
    assert!(is_it_codice_fiscale("RSSMRA85T10A562S"));
    assert!(is_it_codice_fiscale("MRTMTT91D08F205J"));
    assert!(!is_it_codice_fiscale("RSSMRA85T10A562T"), "wrong check");
    assert!(!is_it_codice_fiscale("RSSMRA85Z10A562S"), "no month Z");
    assert!(!is_it_codice_fiscale("RSSMRA85T10A562"), "too short");
}

#[test]
fn dutch_bsn_eleven_proof() {
    assert!(is_nl_bsn("111222333"));
    assert!(is_nl_bsn("123456782"));
    assert!(!is_nl_bsn("123456789"));
    assert!(!is_nl_bsn("000000000"));
    assert!(!is_nl_bsn("12345678"));
}

#[test]
fn polish_pesel_date_and_checksum() {
    assert!(is_pl_pesel("44051401359"));
    assert!(is_pl_pesel("02070803628"), "born in 1902");
    assert!(!is_pl_pesel("44051401358"), "wrong check digit");
    assert!(!is_pl_pesel("44133101359"), "month 13 encodes no century");
}

#[test]
fn brazilian_cpf_check_digits() {
    assert!(is_br_cpf("529.982.247-25"));
    assert!(is_br_cpf("11144477735"));
    assert!(!is_br_cpf("529.982.247-26"));
    assert!(!is_br_cpf("11111111111"), "all equal digits are rejected");
}

#[test]
fn passport_shapes() {
    for valid in ["C01X00T47", "L01234567", "AB1234567", "X1234567"] {
        assert!(is_passport_like(valid), "{valid}");
    }
    for invalid in ["12345", "ABCDEFGHI", "AB-123456", "1234567890AB"] {
        assert!(!is_passport_like(invalid), "{invalid}");
    }
}

#[test]
fn network_identifiers() {
    for valid in ["192.168.1.10", "2001:db8::1", "[::1]", "fe80::1"] {
        assert!(is_ip_address(valid), "{valid}");
    }
    for invalid in ["192.168.1", "256.1.1.1", "1234", "hello", "1.2.3.4.5"] {
        assert!(!is_ip_address(invalid), "{invalid}");
    }
    assert!(is_mac_address("00:1A:2b:3C:4d:5E"));
    assert!(is_mac_address("00-1A-2B-3C-4D-5E"));
    assert!(is_mac_address("001a.2b3c.4d5e"));
    assert!(!is_mac_address("00:1A:2B:3C:4D"));
    assert!(!is_mac_address("00:1A:2B:3C:4D:5G"));
    assert!(is_uuid("550e8400-e29b-41d4-a716-446655440000"));
    assert!(is_uuid("{550E8400-E29B-41D4-A716-446655440000}"));
    assert!(!is_uuid("550e8400e29b41d4a716446655440000"));
}

#[test]
fn coordinates_need_range_and_precision() {
    assert!(is_coordinate("52.520008"));
    assert!(is_coordinate("-122.4194"));
    assert!(!is_coordinate("52.5"), "town-level precision");
    assert!(!is_coordinate("200.12345"));
    assert!(is_coordinate_pair("52.520008,13.404954"));
    assert!(is_coordinate_pair("(48.8566, 2.3522)"));
    assert!(is_coordinate_pair("POINT(13.404954 52.520008)"));
    assert!(!is_coordinate_pair("95.000,13.400"), "latitude out of range");
    assert!(!is_coordinate_pair("52.5,13.4"));
}

#[test]
fn secrets_and_hashes() {
    assert!(is_jwt("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"));
    assert!(!is_jwt("a.b.c"));
    assert!(is_api_key_like("sk_live_4eC39HqLyjWDarjtT1zdp7dc"));
    assert!(is_api_key_like("AKIAIOSFODNN7EXAMPLE"));
    assert!(is_api_key_like("gH7kP2qX9vLm4RtZ8wNc3YbJ6sDf1AeU"));
    assert!(!is_api_key_like("hello world this is text"));
    assert!(!is_api_key_like("550e8400-e29b-41d4-a716-446655440000"), "a UUID is an identifier");
    assert!(!is_api_key_like("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"), "no entropy");
    assert!(is_hex_digest("5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8"));
    assert!(!is_hex_digest("5e884898da2804715"));
    for hash in [
        "$2b$12$KIXQJ8kGx1bQ9pZ5y3vZxeWcL2b3v4n5m6q7r8s9t0u1v2w3x4y5z",
        "$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG",
        "pbkdf2_sha256$260000$abc$def0123456789",
        "$6$rounds=5000$saltsalt$abcdefghijk",
        "{SSHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=",
    ] {
        assert!(is_password_hash(hash), "{hash}");
    }
    assert!(!is_password_hash("password123"));
    assert!(!is_password_hash("$2b$"));
}

#[test]
fn compact_strips_grouping_and_rejects_other_characters() {
    let mut buffer = [0u8; 40];
    assert_eq!(compact("ab 12-34.56/c", &mut buffer), Some(&b"AB123456C"[..]));
    let mut buffer = [0u8; 40];
    assert_eq!(compact("12_34", &mut buffer), None);
    let mut buffer = [0u8; 40];
    assert_eq!(compact(&"1".repeat(41), &mut buffer), None);
}
