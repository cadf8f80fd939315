//! Splits identifiers into lowercase words without allocating.

/// Longest identifier looked at, in bytes after folding; longer names are cut (no column name that
/// a person wrote needs more words than fit here to be recognised).
const MAX_BYTES: usize = 128;
/// Most words looked at.
pub(crate) const MAX_WORDS: usize = 24;

/// The words of one identifier, borrowed from a buffer on the stack.
pub(crate) struct Words {
    buffer: [u8; MAX_BYTES],
    bounds: [(u8, u8); MAX_WORDS],
    count: usize,
}

impl Words {
    /// Splits `identifier` at every character that is not a letter or digit, between a lowercase
    /// letter and an uppercase one (`firstName`), before the last capital of an acronym followed by
    /// lowercase (`HTMLParser` → html, parser), and between letters and digits (`address2`).
    /// Letters are lowercased and common Latin accents folded (`prénom` → prenom, `straße` → strasse).
    pub(crate) fn split(identifier: &str) -> Words {
        let mut words = Words { buffer: [0; MAX_BYTES], bounds: [(0, 0); MAX_WORDS], count: 0 };
        let mut length = 0usize;
        let mut word_start: Option<usize> = None;
        // Class of the previous character: 0 separator, 1 lower, 2 upper, 3 digit.
        let mut previous_class = 0u8;
        let mut characters = identifier.chars().peekable();
        while let Some(character) = characters.next() {
            let (folded, class): (&str, u8) = classify_char(character);
            let next_is_lower = characters.peek().is_some_and(|next| classify_char(*next).1 == 1);
            let boundary = class == 0
                || previous_class == 0
                || (previous_class == 1 && class == 2)
                || (previous_class == 2 && class == 2 && next_is_lower)
                || ((previous_class == 3) != (class == 3));
            if boundary {
                if let Some(start) = word_start.take() {
                    words.push(start, length);
                }
                if class != 0 {
                    word_start = Some(length);
                }
            }
            previous_class = class;
            if class == 0 {
                continue;
            }
            if length + folded.len() > MAX_BYTES {
                break;
            }
            words.buffer[length..length + folded.len()].copy_from_slice(folded.as_bytes());
            length += folded.len();
        }
        if let Some(start) = word_start {
            words.push(start, length);
        }
        words
    }

    fn push(&mut self, start: usize, end: usize) {
        if end > start && self.count < MAX_WORDS {
            // Both bounds are at most MAX_BYTES (128), so they fit a u8.
            self.bounds[self.count] = (start as u8, end as u8);
            self.count += 1;
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.count
    }

    pub(crate) fn get(&self, index: usize) -> &str {
        let (start, end) = self.bounds[index];
        // Only ASCII bytes are ever written to the buffer.
        std::str::from_utf8(&self.buffer[usize::from(start)..usize::from(end)]).unwrap_or_default()
    }

    /// Splits word `index` in two at byte `at` (`phonecell` → phone, cell). Does nothing when
    /// `at` is not inside the word or no more words fit.
    pub(crate) fn split_word(&mut self, index: usize, at: usize) {
        if index >= self.count || self.count == MAX_WORDS {
            return;
        }
        let (start, end) = self.bounds[index];
        let Ok(at) = u8::try_from(at) else {
            return;
        };
        let middle = start.saturating_add(at);
        if at == 0 || middle >= end {
            return;
        }
        self.bounds.copy_within(index + 1..self.count, index + 2);
        self.bounds[index] = (start, middle);
        self.bounds[index + 1] = (middle, end);
        self.count += 1;
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &str> {
        (0..self.count).map(|index| self.get(index))
    }
}

/// The ASCII spelling and the class of one character (see [`Words::split`]).
fn classify_char(character: char) -> (&'static str, u8) {
    const LOWER: [&str; 26] = [
        "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o", "p", "q", "r", "s",
        "t", "u", "v", "w", "x", "y", "z",
    ];
    const DIGITS: [&str; 10] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];
    match character {
        'a'..='z' => (LOWER[(character as u8 - b'a') as usize], 1),
        'A'..='Z' => (LOWER[(character as u8 - b'A') as usize], 2),
        '0'..='9' => (DIGITS[(character as u8 - b'0') as usize], 3),
        _ if character.is_ascii() => ("", 0),
        _ => {
            let lower = character.to_lowercase().next().unwrap_or(character);
            let class = if character.is_uppercase() { 2 } else { 1 };
            let folded = match lower {
                'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ą' => "a",
                'æ' => "ae",
                'ç' | 'ć' | 'č' => "c",
                'è' | 'é' | 'ê' | 'ë' | 'ę' | 'ě' => "e",
                'ì' | 'í' | 'î' | 'ï' => "i",
                'ł' => "l",
                'ñ' | 'ń' | 'ň' => "n",
                'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' => "o",
                'œ' => "oe",
                'ù' | 'ú' | 'û' | 'ü' | 'ů' => "u",
                'ś' | 'š' => "s",
                'ß' => "ss",
                'ý' | 'ÿ' => "y",
                'ź' | 'ż' | 'ž' => "z",
                'ř' => "r",
                'ť' => "t",
                'ď' => "d",
                _ if lower.is_alphanumeric() => return ("", 1),
                _ => return ("", 0),
            };
            (folded, class)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Words;

    fn words(identifier: &str) -> Vec<String> {
        Words::split(identifier).iter().map(str::to_owned).collect()
    }

    #[test]
    fn splits_common_conventions() {
        assert_eq!(words("first_name"), ["first", "name"]);
        assert_eq!(words("firstName"), ["first", "name"]);
        assert_eq!(words("FirstName"), ["first", "name"]);
        assert_eq!(words("HTMLParser"), ["html", "parser"]);
        assert_eq!(words("userIPAddress"), ["user", "ip", "address"]);
        assert_eq!(words("address2"), ["address", "2"]);
        assert_eq!(words("cc-num"), ["cc", "num"]);
        assert_eq!(words("EMAIL"), ["email"]);
        assert_eq!(words("  __x__  "), ["x"]);
        assert!(words("").is_empty());
    }

    #[test]
    fn folds_accents() {
        assert_eq!(words("prénom"), ["prenom"]);
        assert_eq!(words("Straße"), ["strasse"]);
        assert_eq!(words("płeć"), ["plec"]);
        assert_eq!(words("Téléphone_Mobile"), ["telephone", "mobile"]);
    }

    #[test]
    fn a_word_splits_in_two() {
        let mut split = Words::split("home_phonecell_2");
        split.split_word(1, 5);
        assert_eq!(split.iter().collect::<Vec<_>>(), ["home", "phone", "cell", "2"]);
        split.split_word(1, 0);
        split.split_word(1, 5);
        split.split_word(9, 1);
        assert_eq!(split.len(), 4, "splits outside a word are ignored");
    }

    #[test]
    fn long_identifiers_are_cut_not_rejected() {
        let long = "a_".repeat(200);
        assert_eq!(Words::split(&long).len(), super::MAX_WORDS);
    }
}
