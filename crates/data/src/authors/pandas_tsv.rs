//! `pandas.read_csv(path, sep='\t', error_bad_lines=False)` as the authors ran it (pandas 1.5,
//! C engine, default options), for the two files they read that way (GLUE's SST-2 and MRPC
//! `train.tsv`). A transcription of the relevant states of pandas' tokenizer
//! (`pandas/_libs/src/parser/tokenizer.c`, `tokenize_bytes` and `end_line`):
//!
//! - a field that starts with `"` is quoted: tabs and newlines inside it are kept, the quotes are
//!   dropped, `""` is one `"`; after the closing quote the field goes on unquoted;
//! - a `"` elsewhere in a field is an ordinary character;
//! - blank lines (and lines of spaces only) are skipped;
//! - a record with more fields than the last accepted one (the header first) is a bad line,
//!   dropped (`error_bad_lines=False`), except the first data record, which pandas does not check;
//!   a record with fewer fields is padded with empty fields;
//! - a UTF-8 byte-order mark at the start of the file is dropped;
//! - `\r\n` and a lone `\r` also end a record.
//!
//! Values: empty fields and pandas 1.5's default NA strings become NaN ([`is_na`]).

/// A parsed file: the header's column names and the accepted records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TsvTable {
    pub columns: Vec<String>,
    pub rows: Vec<TsvRow>,
    /// 1-based physical line numbers where the dropped bad lines started.
    pub skipped_lines: Vec<usize>,
}

/// One accepted record, as many fields as the header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TsvRow {
    /// 1-based physical line where the record starts.
    pub line: usize,
    pub fields: Vec<String>,
}

/// pandas 1.5's default NA strings (`pandas._libs.parsers.STR_NA_VALUES`; pandas 2 added "None").
const NA_VALUES: [&str; 18] = [
    "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
    "<NA>", "N/A", "NA", "NULL", "NaN", "n/a", "nan", "null",
];

/// Whether pandas reads `field` as NaN.
pub fn is_na(field: &str) -> bool {
    NA_VALUES.contains(&field)
}

/// A field as `Series.astype(str)` gives it: NaN becomes the text `"nan"`.
pub fn as_str(field: &str) -> &str {
    if is_na(field) {
        "nan"
    } else {
        field
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    StartRecord,
    StartField,
    InField,
    InQuotedField,
    QuoteInQuotedField,
    EatCrnl,
    EatCrnlNop,
    WhitespaceLine,
}

const DELIMITER: u8 = b'\t';
const QUOTE: u8 = b'"';

/// The tokenizer's working state.
struct Tokenizer {
    records: Vec<(usize, Vec<Vec<u8>>)>,
    skipped_lines: Vec<usize>,
    fields: Vec<Vec<u8>>,
    field: Vec<u8>,
    /// Fields of the last accepted record (the expected count of the next one).
    last_fields: Option<usize>,
    record_line: usize,
}

impl Tokenizer {
    fn end_field(&mut self) {
        self.fields.push(std::mem::take(&mut self.field));
    }

    /// pandas' `end_line`, with `header_end = 0` and `expected_fields = -1`.
    fn end_line(&mut self) {
        let mut fields = std::mem::take(&mut self.fields);
        let accepted = self.records.len();
        match self.last_fields {
            Some(expected) if accepted > 1 && fields.len() > expected => {
                self.skipped_lines.push(self.record_line);
                return;
            }
            Some(expected) if accepted >= 1 => {
                fields.resize(expected.max(fields.len()), Vec::new())
            }
            _ => {}
        }
        self.last_fields = Some(fields.len());
        self.records.push((self.record_line, fields));
    }
}

/// Parses a whole file (bytes as on disk). Errors name the 1-based line.
pub fn parse(bytes: &[u8]) -> Result<TsvTable, String> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let mut t = Tokenizer {
        records: Vec::new(),
        skipped_lines: Vec::new(),
        fields: Vec::new(),
        field: Vec::new(),
        last_fields: None,
        record_line: 1,
    };
    let mut state = State::StartRecord;
    let mut line = 1;
    let mut i = 0;
    // Where the current record started (for the backtrack of WhitespaceLine).
    let mut record_start = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let mut next = i + 1;
        match state {
            State::WhitespaceLine => match c {
                b'\n' => state = State::StartRecord,
                b'\r' => state = State::EatCrnlNop,
                b' ' => {}
                _ => {
                    // Not a blank line after all: read it again as fields, spaces included.
                    next = record_start;
                    line = t.record_line;
                    state = State::StartField;
                }
            },
            State::StartRecord => {
                t.record_line = line;
                record_start = i;
                match c {
                    b'\n' => {}
                    b'\r' => state = State::EatCrnlNop,
                    b' ' => state = State::WhitespaceLine,
                    _ => {
                        state = State::StartField;
                        next = i;
                    }
                }
            }
            State::StartField => match c {
                b'\n' => {
                    t.end_field();
                    t.end_line();
                    state = State::StartRecord;
                }
                b'\r' => {
                    t.end_field();
                    state = State::EatCrnl;
                }
                QUOTE => state = State::InQuotedField,
                DELIMITER => t.end_field(),
                _ => {
                    t.field.push(c);
                    state = State::InField;
                }
            },
            State::InField => match c {
                b'\n' => {
                    t.end_field();
                    t.end_line();
                    state = State::StartRecord;
                }
                b'\r' => {
                    t.end_field();
                    state = State::EatCrnl;
                }
                DELIMITER => {
                    t.end_field();
                    state = State::StartField;
                }
                _ => t.field.push(c),
            },
            State::InQuotedField => match c {
                QUOTE => state = State::QuoteInQuotedField,
                _ => t.field.push(c),
            },
            State::QuoteInQuotedField => match c {
                QUOTE => {
                    t.field.push(QUOTE);
                    state = State::InQuotedField;
                }
                DELIMITER => {
                    t.end_field();
                    state = State::StartField;
                }
                b'\n' => {
                    t.end_field();
                    t.end_line();
                    state = State::StartRecord;
                }
                b'\r' => {
                    t.end_field();
                    state = State::EatCrnl;
                }
                _ => {
                    t.field.push(c);
                    state = State::InField;
                }
            },
            State::EatCrnl => match c {
                b'\n' => {
                    t.end_line();
                    state = State::StartRecord;
                }
                DELIMITER => {
                    // A `\r`-ended record, and the next one starts with an empty field.
                    t.end_line();
                    t.record_line = line;
                    t.end_field();
                    state = State::StartField;
                }
                _ => {
                    t.end_line();
                    state = State::StartRecord;
                    next = i;
                }
            },
            State::EatCrnlNop => {
                state = State::StartRecord;
                if c != b'\n' && c != DELIMITER {
                    next = i;
                }
            }
        }
        if next > i && c == b'\n' {
            line += 1;
        }
        i = next;
    }
    match state {
        State::StartRecord | State::WhitespaceLine | State::EatCrnlNop => {}
        State::InQuotedField => {
            return Err(format!(
                "line {}: end of file inside a quoted field (pandas: \"EOF inside string\")",
                t.record_line
            ))
        }
        State::InField | State::StartField | State::QuoteInQuotedField => {
            t.end_field();
            t.end_line();
        }
        State::EatCrnl => t.end_line(),
    }
    into_table(t)
}

fn into_table(t: Tokenizer) -> Result<TsvTable, String> {
    let mut records = t.records.into_iter();
    let (_, header) = records
        .next()
        .ok_or_else(|| "the file has no header line".to_string())?;
    let text = |line: usize, bytes: Vec<u8>| {
        String::from_utf8(bytes).map_err(|_| format!("line {line}: text is not valid UTF-8"))
    };
    let columns = header
        .into_iter()
        .map(|f| text(1, f))
        .collect::<Result<Vec<_>, _>>()?;
    let mut rows = Vec::new();
    for (line, fields) in records {
        if fields.len() != columns.len() {
            // Only the unchecked first data record can get here (pandas would then take the
            // extra field as an index column, which neither file of the authors has).
            return Err(format!(
                "line {line}: {} fields where the header has {}",
                fields.len(),
                columns.len()
            ));
        }
        let fields = fields
            .into_iter()
            .map(|f| text(line, f))
            .collect::<Result<Vec<_>, _>>()?;
        rows.push(TsvRow { line, fields });
    }
    Ok(TsvTable {
        columns,
        rows,
        skipped_lines: t.skipped_lines,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(text: &str) -> Vec<Vec<String>> {
        parse(text.as_bytes())
            .unwrap()
            .rows
            .into_iter()
            .map(|r| r.fields)
            .collect()
    }

    #[test]
    fn plain_records_and_the_bom() {
        let t = parse("\u{feff}a\tb\n1\tx y \n2\tx \"q\" r\n3\t\"q\" r\n".as_bytes()).unwrap();
        assert_eq!(t.columns, ["a", "b"]);
        assert_eq!(t.rows[0].fields, ["1", "x y "]);
        // a quote inside an unquoted field is kept; a leading one opens a quoted part
        assert_eq!(t.rows[1].fields, ["2", "x \"q\" r"]);
        assert_eq!(t.rows[2].fields, ["3", "q r"]);
        assert_eq!(t.rows[1].line, 3);
    }

    #[test]
    fn quoted_fields_swallow_tabs_and_newlines() {
        // The quote closes in the next physical line; the record continues there.
        let got = rows("a\tb\tc\n1\t\"x\ty\nz\" w\t3\n4\t5\t6\n");
        assert_eq!(got, vec![vec!["1", "x\ty\nz w", "3"], vec!["4", "5", "6"]]);
        assert_eq!(
            rows("a\tb\n1\t\"he said \"\"hi\"\"\"\n"),
            vec![vec!["1", "he said \"hi\""]]
        );
    }

    #[test]
    fn long_records_are_dropped_and_short_ones_padded() {
        let t = parse(b"a\tb\tc\n1\t2\t3\n1\t2\t3\t4\n5\t6\n").unwrap();
        assert_eq!(t.skipped_lines, [3]);
        let fields: Vec<_> = t.rows.iter().map(|r| r.fields.clone()).collect();
        assert_eq!(fields, vec![vec!["1", "2", "3"], vec!["5", "6", ""]]);
        // pandas does not check the first data record
        assert!(parse(b"a\tb\n1\t2\t3\n").is_err());
    }

    #[test]
    fn blank_lines_are_skipped_and_leading_spaces_kept() {
        let got = rows("a\tb\n\n   \n  1\t2\n\r\n3\t4");
        assert_eq!(got, vec![vec!["  1", "2"], vec!["3", "4"]]);
    }

    #[test]
    fn carriage_returns_end_records() {
        assert_eq!(
            rows("a\tb\r\n1\t2\r3\t4\r\n"),
            vec![vec!["1", "2"], vec!["3", "4"]]
        );
    }

    #[test]
    fn unterminated_quote_is_an_error() {
        let err = parse(b"a\tb\n1\t\"open\n2\t3\n").unwrap_err();
        assert!(err.contains("line 2"), "{err}");
    }

    #[test]
    fn na_strings_become_the_text_nan() {
        assert_eq!(as_str(""), "nan");
        assert_eq!(as_str("NA"), "nan");
        assert_eq!(as_str("None"), "None");
        assert_eq!(as_str("n/a x"), "n/a x");
    }
}
