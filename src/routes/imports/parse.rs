//! Reading an import's body as it arrives: CSV records or NDJSON lines, each turned into the
//! JSON object a single create would take, with its line number. A row that cannot be read is a
//! row error; a file that cannot be read as a whole (no header, an unknown column) is a 400.

use std::io::{BufRead, Read};

use actix_web::web::Bytes;
use serde_json::{Map, Value};

use crate::error::{ApiError, FieldError};
use crate::http::extract::parse_json;

/// The longest NDJSON line read (the limit of a single create's JSON body): a longer one is a
/// row error, and is skipped without being held in memory.
pub const MAX_LINE_BYTES: usize = 1024 * 1024;

/// A body arriving in chunks from the HTTP worker, read as a `std::io::Read` by the thread that
/// parses it. A UTF-8 byte order mark at its start is dropped.
pub struct ChannelReader {
    chunks: tokio::sync::mpsc::Receiver<Bytes>,
    current: Bytes,
    started: bool,
    last: Option<u8>,
}

impl ChannelReader {
    /// Reads what is sent on `chunks` until the sender is dropped.
    pub fn new(chunks: tokio::sync::mpsc::Receiver<Bytes>) -> Self {
        ChannelReader {
            chunks,
            current: Bytes::new(),
            started: false,
            last: None,
        }
    }
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if !self.started {
            self.started = true;
            let mut head = Vec::new();
            while head.len() < 3 {
                match self.chunks.blocking_recv() {
                    Some(chunk) => head.extend_from_slice(&chunk),
                    None => break,
                }
            }
            let skip = if head.starts_with(b"\xEF\xBB\xBF") {
                3
            } else {
                0
            };
            self.current = Bytes::from(head).slice(skip..);
        }
        while self.current.is_empty() {
            match self.chunks.blocking_recv() {
                Some(chunk) => self.current = chunk,
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current[..n]);
        if let Some(&b) = self.current[..n]
            .iter()
            .rev()
            .find(|b| !b.is_ascii_whitespace())
        {
            self.last = Some(b);
        }
        self.current = self.current.slice(n..);
        Ok(n)
    }
}

/// How a CSV cell becomes a JSON value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cell {
    /// Text, as written.
    Text,
    /// `true` or `false` (any case); anything else is passed on as text, so the row gets the
    /// same error a create sent that text would.
    Bool,
    /// A whole number; anything else is passed on as text.
    Int,
    /// Keys separated by spaces or commas, each set to `true` in an object
    /// (`"visit_booked form_received"` → `{"visit_booked": true, "form_received": true}`).
    Keys,
}

/// A column of an import's CSV form.
#[derive(Debug)]
pub struct Column {
    /// Its name in the header row.
    pub name: &'static str,
    /// The field of the JSON row it fills.
    pub key: &'static str,
    /// For a nested field (`address_city`), the key inside `key`.
    pub sub: Option<&'static str>,
    /// How its cells are read.
    pub cell: Cell,
    /// Whether the header must have it.
    pub required: bool,
    /// What it holds, for the documentation.
    pub doc: &'static str,
}

/// A row read from the file.
pub enum Parsed {
    /// A JSON object to check, with the problems already found reading it (a key given twice,
    /// NUL characters).
    Row {
        line: u64,
        map: Map<String, Value>,
        prior: Vec<FieldError>,
    },
    /// A row that could not be read.
    Bad { line: u64, errors: Vec<FieldError> },
}

/// Rows of a file, one at a time.
pub trait Rows {
    /// The next row; `None` at the end. An error is a problem with the whole file.
    fn next_row(&mut self) -> Result<Option<Parsed>, ApiError>;
    /// Renames the fields of a checked row's errors as the file names them.
    fn field_name(&self, field: String) -> String {
        field
    }
}

fn unreadable() -> ApiError {
    ApiError::bad_request("the request body could not be read to its end")
}

impl ChannelReader {
    /// The last byte read that is not white space.
    pub fn last_byte(&self) -> Option<u8> {
        self.last
    }
}

type Body = std::io::BufReader<ChannelReader>;

/// CSV records under a header row.
pub struct CsvRows {
    reader: csv::Reader<Body>,
    columns: Vec<&'static Column>,
    all: &'static [Column],
    record: csv::ByteRecord,
    /// The record after `record` (read ahead, to know which is the last).
    ahead: Option<csv::ByteRecord>,
}

impl CsvRows {
    /// Reads the header row and checks it against `columns`: an unknown, repeated or missing
    /// column is a 400 naming it.
    pub fn new(reader: Body, all: &'static [Column]) -> Result<Self, ApiError> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(reader);
        let mut record = csv::ByteRecord::new();
        if !reader
            .read_byte_record(&mut record)
            .map_err(|_| unreadable())?
        {
            return Err(ApiError::bad_request(
                "the file is empty: a CSV import needs a header row and at least one row",
            ));
        }
        let mut errors = Vec::new();
        let mut columns = Vec::new();
        for (i, raw) in record.iter().enumerate() {
            let Ok(name) = std::str::from_utf8(raw) else {
                errors.push(FieldError::new(
                    format!("header[{i}]"),
                    "encoding",
                    "is not UTF-8 text: save the file as UTF-8",
                ));
                continue;
            };
            let name = name.trim();
            match all.iter().find(|c| c.name == name) {
                Some(c) if columns.iter().any(|k: &&Column| k.name == name) => {
                    errors.push(FieldError::new(
                        name,
                        "duplicate",
                        "is given more than once",
                    ));
                    columns.push(c);
                }
                Some(c) => columns.push(c),
                None => errors.push(FieldError::new(
                    name.replace('\0', ""),
                    "unknown_column",
                    format!(
                        "is not a column of this import (the columns are: {})",
                        all.iter().map(|c| c.name).collect::<Vec<_>>().join(", ")
                    ),
                )),
            }
        }
        for c in all.iter().filter(|c| c.required) {
            if !columns.iter().any(|k| k.name == c.name) {
                errors.push(FieldError::new(
                    c.name,
                    "missing_column",
                    "is a required column",
                ));
            }
        }
        if !errors.is_empty() {
            let mut e = ApiError::invalid(errors);
            if let ApiError::BadRequest { detail, .. } = &mut e {
                *detail = format!("the header row is not usable: {detail}");
            }
            return Err(e);
        }
        let mut rows = CsvRows {
            reader,
            columns,
            all,
            record,
            ahead: None,
        };
        rows.ahead = rows.read()?;
        Ok(rows)
    }

    fn read(&mut self) -> Result<Option<csv::ByteRecord>, ApiError> {
        let mut record = csv::ByteRecord::new();
        Ok(self
            .reader
            .read_byte_record(&mut record)
            .map_err(|_| unreadable())?
            .then_some(record))
    }
}

impl Rows for CsvRows {
    fn next_row(&mut self) -> Result<Option<Parsed>, ApiError> {
        let Some(record) = self.ahead.take() else {
            return Ok(None);
        };
        self.record = record;
        self.ahead = self.read()?;
        let line = self.record.position().map_or(0, csv::Position::line);
        // A quote left open runs its field to the end of the file (the CSV reader takes that
        // without complaint): the last record spans lines and the file does not end with the
        // closing quote.
        let spans_lines = self.record.iter().any(|f| f.contains(&b'\n'));
        let last_byte = self.reader.get_ref().get_ref().last_byte();
        if self.ahead.is_none() && spans_lines && last_byte != Some(b'"') {
            return Ok(Some(Parsed::Bad {
                line,
                errors: vec![FieldError::new(
                    "row",
                    "unclosed_quote",
                    "opens a quoted field that is never closed: it runs to the end of the file",
                )],
            }));
        }
        if self.record.len() != self.columns.len() {
            return Ok(Some(Parsed::Bad {
                line,
                errors: vec![FieldError::new(
                    "row",
                    "column_count",
                    format!(
                        "has {} fields where the header has {} (a quote left open joins lines)",
                        self.record.len(),
                        self.columns.len()
                    ),
                )],
            }));
        }
        let mut map = Map::new();
        let mut errors = Vec::new();
        for (column, raw) in self.columns.iter().zip(self.record.iter()) {
            let Ok(text) = std::str::from_utf8(raw) else {
                errors.push(FieldError::new(
                    column.name,
                    "encoding",
                    "is not UTF-8 text: save the file as UTF-8",
                ));
                continue;
            };
            if text.is_empty() {
                continue;
            }
            if text.contains('\0') {
                // What the JSON reader says of NUL in a create's body.
                errors.push(FieldError::new(
                    column.name,
                    "invalid",
                    "must not contain NUL characters",
                ));
                continue;
            }
            let value = match column.cell {
                Cell::Bool if text.eq_ignore_ascii_case("true") => Value::Bool(true),
                Cell::Bool if text.eq_ignore_ascii_case("false") => Value::Bool(false),
                Cell::Int => text
                    .parse::<i64>()
                    .map_or_else(|_| Value::String(text.to_string()), Value::from),
                Cell::Keys => Value::Object(
                    text.split([' ', ','])
                        .filter(|k| !k.is_empty())
                        .map(|k| (k.to_string(), Value::Bool(true)))
                        .collect(),
                ),
                _ => Value::String(text.to_string()),
            };
            match column.sub {
                None => {
                    map.insert(column.key.to_string(), value);
                }
                Some(sub) => {
                    let nested = map
                        .entry(column.key.to_string())
                        .or_insert_with(|| Value::Object(Map::new()));
                    if let Value::Object(m) = nested {
                        m.insert(sub.to_string(), value);
                    }
                }
            }
        }
        if !errors.is_empty() {
            return Ok(Some(Parsed::Bad { line, errors }));
        }
        Ok(Some(Parsed::Row {
            line,
            map,
            prior: Vec::new(),
        }))
    }

    fn field_name(&self, field: String) -> String {
        for c in self.all {
            if let Some(sub) = c.sub {
                if field.len() == c.key.len() + 1 + sub.len()
                    && field.starts_with(c.key)
                    && field.ends_with(sub)
                {
                    return c.name.to_string();
                }
            }
        }
        field
    }
}

/// NDJSON: a JSON object a line. Blank lines are skipped; CRLF line ends are taken.
pub struct NdjsonRows<R: BufRead> {
    reader: R,
    line: u64,
    buf: Vec<u8>,
}

impl<R: BufRead> NdjsonRows<R> {
    /// Lines of `reader`.
    pub fn new(reader: R) -> Self {
        NdjsonRows {
            reader,
            line: 0,
            buf: Vec::new(),
        }
    }

    /// Reads one line into `buf` (without its end); false at the end of the body. A line over
    /// the limit is read to its end but not kept: true, with `buf` holding its first bytes.
    fn read_line(&mut self) -> Result<(bool, bool), ApiError> {
        self.buf.clear();
        let mut read_any = false;
        let mut too_long = false;
        loop {
            let available = self.reader.fill_buf().map_err(|_| unreadable())?;
            if available.is_empty() {
                return Ok((read_any, too_long));
            }
            read_any = true;
            let (part, done) = match available.iter().position(|&b| b == b'\n') {
                Some(i) => (&available[..i], Some(i + 1)),
                None => (available, None),
            };
            if self.buf.len() + part.len() > MAX_LINE_BYTES {
                too_long = true;
            } else {
                self.buf.extend_from_slice(part);
            }
            let used = done.unwrap_or(available.len());
            self.reader.consume(used);
            if done.is_some() {
                return Ok((true, too_long));
            }
        }
    }
}

impl<R: BufRead> Rows for NdjsonRows<R> {
    fn next_row(&mut self) -> Result<Option<Parsed>, ApiError> {
        loop {
            let (more, too_long) = self.read_line()?;
            if !more {
                return Ok(None);
            }
            self.line += 1;
            let line = self.line;
            if too_long {
                return Ok(Some(Parsed::Bad {
                    line,
                    errors: vec![FieldError::new(
                        "line",
                        "too_long",
                        format!("is over {MAX_LINE_BYTES} bytes"),
                    )],
                }));
            }
            if self.buf.last() == Some(&b'\r') {
                self.buf.pop();
            }
            if self.buf.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let bad = |code: &str, message: String| {
                Ok(Some(Parsed::Bad {
                    line,
                    errors: vec![FieldError::new("line", code, message)],
                }))
            };
            if std::str::from_utf8(&self.buf).is_err() {
                return bad("encoding", "is not UTF-8 text".into());
            }
            return match parse_json(&self.buf) {
                Ok((Value::Object(map), prior)) => Ok(Some(Parsed::Row { line, map, prior })),
                Ok(_) => bad("type", "must be a JSON object".into()),
                Err(_) => {
                    let column = serde_json::from_slice::<serde::de::IgnoredAny>(&self.buf)
                        .err()
                        .map_or(0, |e| e.column());
                    bad(
                        "invalid_json",
                        format!("is not valid JSON (column {column})"),
                    )
                }
            };
        }
    }
}
