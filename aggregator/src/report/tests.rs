//! Escaping and spreadsheet safety of the renderers.

use super::csv::{Section, neutralize};
use super::html::escape;

#[test]
fn html_escaping_covers_markup_and_quotes() {
    assert_eq!(
        escape("<script>alert('x')</script> & \"y\""),
        "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;y&quot;"
    );
    assert_eq!(escape("customers.e-mail"), "customers.e-mail");
}

#[test]
fn formula_cells_are_neutralised_and_others_kept() {
    for formula in ["=1+1", "+cmd", "-2+3", "@SUM(A1)", "\t=x", "\r=x"] {
        assert_eq!(neutralize(formula), format!("'{formula}"));
    }
    for plain in ["checkout", "eu-central-1 → us-east-1", "12", ""] {
        assert_eq!(neutralize(plain), plain);
    }
}

#[test]
fn sections_are_named_both_ways() {
    for (name, section) in Section::ALL {
        assert_eq!(Section::from_name(name), Some(section));
        assert_eq!(section.name(), name);
    }
    assert_eq!(Section::from_name("Transfers"), Some(Section::Transfers));
    assert_eq!(Section::from_name("everything"), None);
}
