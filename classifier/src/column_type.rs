//! What kind of value a column holds, from its declared type: an SQL type name (`varchar(255)`,
//! `timestamp without time zone`, a Rails `t.boolean`), a PostgreSQL type OID or a MySQL column
//! type code read on the wire.
//!
//! A column's type sets aside entities it cannot hold (the rules' `[column_types]`): a boolean is
//! a flag about the data (`notified_by_email`), not an address; an integer `creator` is a key, not
//! a login.

use serde::Serialize;

/// Words that may follow a type's first word in its declared name (`character varying`,
/// `double precision`, `timestamp without time zone`, `int unsigned`, `varchar binary`).
const TYPE_MODIFIERS: &[&str] = &[
    "varying", "precision", "with", "without", "time", "zone", "local", "unsigned", "signed", "zerofill",
    "binary", "large", "object", "character", "varchar", "char", "text", "byte", "ascii", "unicode",
];

/// The family of a column's declared type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ColumnType {
    /// Character strings of any length (`varchar`, `text`, `citext`, `enum`).
    Text,
    /// Whole numbers (`integer`, `bigint`, `serial`, a Rails `references`).
    Integer,
    /// Fixed and floating point numbers (`numeric`, `decimal`, `double precision`, `money`).
    Decimal,
    /// `boolean`, `bool`, MySQL's `tinyint(1)`.
    Boolean,
    /// A calendar date.
    Date,
    /// A date with a time of day (`timestamp`, `timestamptz`, `datetime`).
    Timestamp,
    /// A time of day or an interval.
    Time,
    /// `uuid`.
    Uuid,
    /// A network address (`inet`, `cidr`).
    Inet,
    /// A hardware address (`macaddr`).
    MacAddr,
    /// `json`, `jsonb`.
    Json,
    /// Bytes (`bytea`, `blob`, `binary`).
    Binary,
    /// Anything else (geometric types, `tsvector`, `xml`, ...).
    Other,
}

impl ColumnType {
    /// Every family, in the order of the rules file's documentation.
    pub const ALL: [ColumnType; 13] = [
        ColumnType::Text,
        ColumnType::Integer,
        ColumnType::Decimal,
        ColumnType::Boolean,
        ColumnType::Date,
        ColumnType::Timestamp,
        ColumnType::Time,
        ColumnType::Uuid,
        ColumnType::Inet,
        ColumnType::MacAddr,
        ColumnType::Json,
        ColumnType::Binary,
        ColumnType::Other,
    ];

    /// The family's position in [`ColumnType::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// The family's name, as the rules file, `aggregator classify` and the reasons write it.
    pub fn name(self) -> &'static str {
        match self {
            ColumnType::Text => "text",
            ColumnType::Integer => "integer",
            ColumnType::Decimal => "decimal",
            ColumnType::Boolean => "boolean",
            ColumnType::Date => "date",
            ColumnType::Timestamp => "timestamp",
            ColumnType::Time => "time",
            ColumnType::Uuid => "uuid",
            ColumnType::Inet => "inet",
            ColumnType::MacAddr => "macaddr",
            ColumnType::Json => "json",
            ColumnType::Binary => "binary",
            ColumnType::Other => "other",
        }
    }

    /// The family of a family name ([`ColumnType::name`]).
    pub fn from_name(name: &str) -> Option<ColumnType> {
        ColumnType::ALL.into_iter().find(|family| family.name() == name)
    }

    /// Every family's name, for messages: `text, integer, ...`.
    pub fn names() -> String {
        ColumnType::ALL.map(ColumnType::name).join(", ")
    }

    /// The family of a declared SQL type as a schema, `information_schema.columns.data_type`
    /// or a Rails schema writes it: `character varying(255)`, `character_varying(255)`, `int4`,
    /// `tinyint(1)`, `timestamp without time zone`, `text[]`, `public.citext`, `string`.
    /// Case, quotes, a schema prefix, a length, precision or list of values, `unsigned` and array
    /// brackets do not matter (an array is taken as its element type); spaces and underscores
    /// both separate words. A character type 36 long (`char(36)`, `varchar(36)`) is a UUID's
    /// text form, `Uuid`. A name with words no SQL type has (a type a database defines, such as
    /// `date_range`) is `Other`. `None` for an empty name.
    pub fn from_declared(declared: &str) -> Option<ColumnType> {
        let lower = declared.trim().to_ascii_lowercase().replace('"', "");
        let lower = lower.trim_end_matches("[]");
        // PostgreSQL's internal names of array types start with an underscore (`_int4`).
        let lower = lower.strip_prefix('_').unwrap_or(lower);
        // Lengths, precisions and enum values first: they may hold dots, spaces and underscores.
        let (mut bare, mut length, mut depth) = (String::new(), String::new(), 0u32);
        for c in lower.chars() {
            match c {
                '(' => depth += 1,
                ')' => depth = depth.saturating_sub(1),
                _ if depth == 0 => bare.push(c),
                _ if length.is_empty() || !length.contains(',') => length.push(c),
                _ => {}
            }
        }
        // A qualified name may be a schema tool's own, told apart by its qualifier (Go's `time.Time`
        // is an instant, SQL's `time` a time of day): it is looked up whole before the cut.
        if bare.contains('.')
            && let Some(family) = ColumnType::from_schema_tool(bare.trim_start_matches('*'))
        {
            return Some(family);
        }
        let bare = bare.rsplit_once('.').map_or(bare.as_str(), |(_, unqualified)| unqualified);
        let mut words = bare.split([' ', '_']).filter(|word| !word.is_empty()).peekable();
        if words.peek() == Some(&"national") {
            words.next();
        }
        let first = words.next()?;
        // Type names of several words that ORMs give (`naive_datetime`, `small_text`).
        if words.peek().is_some() {
            let joined = bare.split([' ', '_']).filter(|word| !word.is_empty()).collect::<Vec<_>>().join("_");
            if let Some(family) = ColumnType::from_schema_tool(&joined) {
                return Some(family);
            }
        }
        if !words.all(|word| TYPE_MODIFIERS.contains(&word)) {
            return Some(ColumnType::Other);
        }
        if let Some(family) = ColumnType::from_schema_tool(first) {
            return Some(family);
        }
        let length = length.trim();
        // A 36-character string is a UUID's text form (Keycloak's and Laravel's `char(36)` keys).
        if length == "36" && matches!(first, "char" | "varchar" | "character" | "nchar" | "nvarchar") {
            return Some(ColumnType::Uuid);
        }
        let family = match first {
            // MySQL's BOOLEAN is TINYINT(1); a one-bit BIT is a flag.
            "tinyint" | "bit" if length == "1" => ColumnType::Boolean,
            "bit" if length.is_empty() && bare.split([' ', '_']).count() == 1 => ColumnType::Boolean,
            "boolean" | "bool" => ColumnType::Boolean,
            "smallint" | "integer" | "int" | "int2" | "int4" | "int8" | "bigint" | "tinyint" | "mediumint"
            | "serial" | "smallserial" | "bigserial" | "serial2" | "serial4" | "serial8" | "references"
            | "belongs" | "year" | "oid" => ColumnType::Integer,
            "numeric" | "decimal" | "dec" | "real" | "float" | "float4" | "float8" | "double" | "money" => {
                ColumnType::Decimal
            }
            "date" => ColumnType::Date,
            "timestamp" | "timestamptz" | "datetime" | "smalldatetime" | "datetime2" | "datetimeoffset" => {
                ColumnType::Timestamp
            }
            "time" | "timetz" | "interval" => ColumnType::Time,
            "uuid" | "uniqueidentifier" => ColumnType::Uuid,
            "inet" | "cidr" => ColumnType::Inet,
            "macaddr" | "macaddr8" => ColumnType::MacAddr,
            "json" | "jsonb" => ColumnType::Json,
            "bytea" | "blob" | "tinyblob" | "mediumblob" | "longblob" | "binary" | "varbinary" | "bit"
            | "varbit" => ColumnType::Binary,
            "character" | "char" | "varchar" | "nchar" | "nvarchar" | "varchar2" | "nvarchar2" | "text"
            | "tinytext" | "mediumtext" | "longtext" | "ntext" | "string" | "citext" | "enum" | "set" | "clob"
            | "name" | "bpchar" | "ascii" => ColumnType::Text,
            _ => ColumnType::Other,
        };
        Some(family)
    }

    /// The family of a type as an ORM or a schema tool names it, for the database type it creates:
    /// Django's field classes (`charfield`, `genericipaddressfield`), Laravel's and Yii's column
    /// methods (`unsignedinteger`, `ipaddress`, `bigprimarykey`), ADOdb's type codes (`c2`, `i8`,
    /// `x`, `l`), Apache OFBiz's field types (`id-long`, `date-time`, `indicator`), Bugzilla's
    /// (`int3`, `mediumserial`), Prisma's `bytes`, Odoo's and Frappe's field types (`many2one`,
    /// `link`, `check`), Ecto's (`binary_id`, `naive_datetime`), Go's and Java's as XORM and
    /// Hibernate mappings give them (`int64`, `long`) and OpenSlides' (`relation`, `number`).
    /// `None` for any other name.
    fn from_schema_tool(word: &str) -> Option<ColumnType> {
        Some(match word {
            // Django's model fields.
            "charfield" | "textfield" | "emailfield" | "slugfield" | "urlfield" | "filefield"
            | "imagefield" | "filepathfield" => ColumnType::Text,
            "integerfield" | "smallintegerfield" | "bigintegerfield" | "positiveintegerfield"
            | "positivesmallintegerfield" | "positivebigintegerfield" | "autofield" | "bigautofield"
            | "smallautofield" | "foreignkey" | "onetoonefield" => ColumnType::Integer,
            "booleanfield" | "nullbooleanfield" => ColumnType::Boolean,
            "datefield" => ColumnType::Date,
            "datetimefield" => ColumnType::Timestamp,
            "timefield" | "durationfield" => ColumnType::Time,
            "decimalfield" | "floatfield" => ColumnType::Decimal,
            "uuidfield" => ColumnType::Uuid,
            "genericipaddressfield" | "ipaddressfield" => ColumnType::Inet,
            "jsonfield" => ColumnType::Json,
            "binaryfield" => ColumnType::Binary,
            // Laravel's schema builder and Vanilla's Garden (`ipaddress`, `primarykey`).
            "increments" | "bigincrements" | "mediumincrements" | "smallincrements" | "tinyincrements"
            | "unsignedinteger" | "unsignedbiginteger" | "unsignedmediuminteger" | "unsignedsmallinteger"
            | "unsignedtinyinteger" | "biginteger" | "mediuminteger" | "smallinteger" | "tinyinteger"
            | "foreignid" | "primarykey" => ColumnType::Integer,
            "unsigneddecimal" => ColumnType::Decimal,
            "ulid" => ColumnType::Text,
            "ipaddress" => ColumnType::Inet,
            // Yii's schema builder (Craft, HumHub): `bigPrimaryKey()` and the abstract `pk` types.
            "bigprimarykey" | "pk" | "bigpk" | "upk" | "ubigpk" => ColumnType::Integer,
            "macaddress" => ColumnType::MacAddr,
            "remembertoken" => ColumnType::Text,
            "softdeletes" => ColumnType::Timestamp,
            // ADOdb's portable type codes (Moodle, Mantis, OJS): character, text, integers,
            // auto-increment, logical, number, float, date, timestamp, blob.
            "c" | "c2" | "x" | "xl" | "x2" => ColumnType::Text,
            "i" | "i1" | "i2" | "i4" | "i8" | "r" => ColumnType::Integer,
            "l" => ColumnType::Boolean,
            "n" | "f" => ColumnType::Decimal,
            "d" => ColumnType::Date,
            "t" => ColumnType::Timestamp,
            "b" => ColumnType::Binary,
            // Apache OFBiz's field types.
            "id" | "id-long" | "id-vlong" | "id-ne" | "id-long-ne" | "id-vlong-ne" | "short-varchar"
            | "long-varchar" | "very-long" | "very-short" | "description" | "comment" | "value"
            | "email" | "url" | "tel-number" | "credit-card-number" | "credit-card-date" => ColumnType::Text,
            "indicator" => ColumnType::Boolean,
            "date-time" => ColumnType::Timestamp,
            "numeric-id" => ColumnType::Integer,
            "currency-amount" | "currency-precise" | "fixed-point" | "floating-point" => ColumnType::Decimal,
            "object" | "byte-array" => ColumnType::Binary,
            // Bugzilla's abstract types.
            "int1" | "int3" | "mediumserial" => ColumnType::Integer,
            // Prisma's.
            "bytes" => ColumnType::Binary,
            // Odoo's field classes (`many2one` is the key of another record).
            "html" | "selection" | "reference" => ColumnType::Text,
            "many2one" | "many2one_reference" => ColumnType::Integer,
            "monetary" => ColumnType::Decimal,
            "image" => ColumnType::Binary,
            // Frappe's field types: a `link` keeps the linked document's name, which is text.
            "data" | "link" | "dynamic_link" | "select" | "small_text" | "long_text" | "text_editor"
            | "markdown_editor" | "html_editor" | "code" | "read_only" | "attach" | "attach_image"
            | "autocomplete" | "password" | "phone" | "signature" | "barcode" | "color" => ColumnType::Text,
            "check" => ColumnType::Boolean,
            "currency" | "percent" | "rating" => ColumnType::Decimal,
            // Ecto's types (Elixir).
            "map" => ColumnType::Json,
            "binary_id" => ColumnType::Uuid,
            "naive_datetime" | "naive_datetime_usec" | "utc_datetime" | "utc_datetime_usec" => ColumnType::Timestamp,
            // Go's and Java's types, as XORM, GORM and Hibernate mappings name a field's type.
            "int64" | "int32" | "int16" | "uint" | "uint8" | "uint16" | "uint32" | "uint64" | "long" | "short" => {
                ColumnType::Integer
            }
            "float32" | "float64" => ColumnType::Decimal,
            // Go's instants (GORM, XORM, sqlx), whole with their package.
            "time.time" | "sql.nulltime" | "null.time" => ColumnType::Timestamp,
            "yes_no" | "true_false" => ColumnType::Boolean,
            "many-to-one" => ColumnType::Integer,
            // OpenSlides' model definitions.
            "number" | "relation" => ColumnType::Integer,
            "htmlstrict" | "htmlpermissive" | "generic-relation" => ColumnType::Text,
            _ => return None,
        })
    }

    /// The family of a PostgreSQL type OID (a RowDescription's data type), for the built-in
    /// types; `None` for types an installation defines (their OIDs differ between databases).
    pub fn from_postgres_oid(oid: u32) -> Option<ColumnType> {
        Some(match oid {
            16 => ColumnType::Boolean,
            20 | 21 | 23 | 26 => ColumnType::Integer,
            700 | 701 | 790 | 1700 => ColumnType::Decimal,
            1082 => ColumnType::Date,
            1114 | 1184 => ColumnType::Timestamp,
            1083 | 1266 | 1186 => ColumnType::Time,
            2950 => ColumnType::Uuid,
            869 | 650 => ColumnType::Inet,
            829 | 774 => ColumnType::MacAddr,
            114 | 3802 => ColumnType::Json,
            17 => ColumnType::Binary,
            18 | 19 | 25 | 1042 | 1043 => ColumnType::Text,
            // Arrays of the above.
            1000 => ColumnType::Boolean,
            1005 | 1007 | 1016 => ColumnType::Integer,
            1021 | 1022 | 1231 => ColumnType::Decimal,
            1009 | 1014 | 1015 => ColumnType::Text,
            2951 => ColumnType::Uuid,
            1041 | 651 => ColumnType::Inet,
            _ => return None,
        })
    }

    /// The family of a MySQL column type code and display length (a column definition's type and
    /// length). A `TINYINT` one wide is what MySQL and MariaDB make of BOOLEAN. BLOB codes carry
    /// TEXT columns too: they are text.
    pub fn from_mysql_type(code: u32, display_length: Option<u32>) -> Option<ColumnType> {
        Some(match code {
            1 if display_length == Some(1) => ColumnType::Boolean,
            1 | 2 | 3 | 8 | 9 | 13 => ColumnType::Integer,
            0 | 4 | 5 | 246 => ColumnType::Decimal,
            10 | 14 => ColumnType::Date,
            7 | 12 | 17 | 18 => ColumnType::Timestamp,
            11 | 19 => ColumnType::Time,
            16 => ColumnType::Binary,
            245 => ColumnType::Json,
            15 | 247..=254 => ColumnType::Text,
            255 => ColumnType::Other,
            _ => return None,
        })
    }
}
