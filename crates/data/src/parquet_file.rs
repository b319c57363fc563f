//! Parquet files (as Hugging Face `datasets` writes them) read into the rows of
//! [`crate::custom`], with the arrow-rs `parquet` crate's row API (no `arrow`).
//!
//! - Only the asked columns are decoded (a projection). A missing column, a text column whose
//!   values are not strings, a null, an empty or non-scalar label: one error naming the file and
//!   the column (and the row, 1-based, where one row is at fault).
//! - A label may be a string, an integer or a boolean, as in JSONL. When the file's
//!   `huggingface` metadata declares the label column a `ClassLabel`, an integer label is the
//!   index into its `names`, and those names (in order) are the dataset's labels; an index
//!   outside them is an error.

use crate::custom::{Columns, RawRow};
use crate::error::DataError;
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::Field;
use parquet::schema::types::Type;
use std::path::Path;
use std::sync::Arc;

/// The rows of one Parquet file, and the label names of its `ClassLabel` feature, if any.
pub(crate) fn read_parquet(
    path: &Path,
    columns: &Columns<'_>,
) -> Result<(Vec<RawRow>, Option<Vec<String>>), DataError> {
    let unreadable = |e: parquet::errors::ParquetError| {
        let message = e.to_string();
        // Only snappy is built in (see the workspace Cargo.toml): say what to do about it.
        let message = match message.split_once("Disabled feature at compile time: ") {
            Some((_, codec)) => format!(
                "its pages are compressed with {codec}; dmlft reads uncompressed and snappy \
                 Parquet (what `datasets` writes): rewrite it with snappy"
            ),
            None => message,
        };
        DataError::Parquet {
            path: path.to_path_buf(),
            message,
        }
    };
    let file = std::fs::File::open(path).map_err(|e| DataError::io(path, e))?;
    let reader = SerializedFileReader::new(file).map_err(unreadable)?;
    let metadata = reader.metadata().file_metadata();
    let root = metadata.schema_descr().root_schema();
    let available: Vec<String> = root
        .get_fields()
        .iter()
        .map(|f| f.name().to_string())
        .collect();
    let wanted: Vec<&str> = [Some(columns.text), columns.text_pair, columns.label]
        .into_iter()
        .flatten()
        .chain(columns.label_name)
        .collect();
    let mut projected: Vec<Arc<Type>> = Vec::new();
    for name in &wanted {
        let field = root
            .get_fields()
            .iter()
            .find(|f| f.name() == *name)
            .ok_or_else(|| column_error(path, name, no_column(&available)))?;
        if !projected.iter().any(|f| f.name() == *name) {
            projected.push(field.clone());
        }
    }
    let class_names = columns
        .label
        .and_then(|label| class_label_names(metadata.key_value_metadata(), label));
    let projection = Type::group_type_builder(root.name())
        .with_fields(projected)
        .build()
        .map_err(unreadable)?;
    let mut rows = Vec::new();
    for (index, row) in reader
        .get_row_iter(Some(projection))
        .map_err(unreadable)?
        .enumerate()
    {
        let row = row.map_err(unreadable)?;
        let number = index + 1;
        let get = |name: &str| {
            row.get_column_iter()
                .find(|(n, _)| n.as_str() == name)
                .map(|(_, f)| f)
                .unwrap_or(&Field::Null)
        };
        let text = |name: &str| text_value(path, name, number, get(name));
        let label = match columns.label {
            None => String::new(),
            Some(name) => label_value(path, name, number, get(name), class_names.as_deref())?,
        };
        rows.push(RawRow {
            text: text(columns.text)?,
            text_pair: columns.text_pair.map(text).transpose()?,
            label,
            label_name: columns.label_name.map(text).transpose()?,
            line: number,
        });
    }
    Ok((rows, class_names))
}

fn no_column(available: &[String]) -> String {
    format!("no such column; the file has {}", available.join(", "))
}

fn column_error(path: &Path, column: &str, problem: String) -> DataError {
    DataError::Column {
        path: path.to_path_buf(),
        column: column.to_string(),
        problem,
    }
}

fn text_value(path: &Path, column: &str, row: usize, field: &Field) -> Result<String, DataError> {
    match field {
        Field::Str(s) => Ok(s.clone()),
        Field::Null => Err(column_error(
            path,
            column,
            format!("row {row}: no value (null); a text column needs a string in every row"),
        )),
        other => Err(column_error(
            path,
            column,
            format!(
                "row {row}: {} is not text; a text column holds strings",
                describe(other)
            ),
        )),
    }
}

fn label_value(
    path: &Path,
    column: &str,
    row: usize,
    field: &Field,
    class_names: Option<&[String]>,
) -> Result<String, DataError> {
    let integer = match field {
        Field::Byte(v) => Some(i128::from(*v)),
        Field::Short(v) => Some(i128::from(*v)),
        Field::Int(v) => Some(i128::from(*v)),
        Field::Long(v) => Some(i128::from(*v)),
        Field::UByte(v) => Some(i128::from(*v)),
        Field::UShort(v) => Some(i128::from(*v)),
        Field::UInt(v) => Some(i128::from(*v)),
        Field::ULong(v) => Some(i128::from(*v)),
        _ => None,
    };
    match (integer, field) {
        (Some(id), _) => match class_names {
            None => Ok(id.to_string()),
            Some(names) => usize::try_from(id)
                .ok()
                .and_then(|i| names.get(i))
                .cloned()
                .ok_or_else(|| {
                    column_error(
                        path,
                        column,
                        format!(
                            "row {row}: label id {id} is outside the {} names of the file's \
                             ClassLabel feature (0..={})",
                            names.len(),
                            names.len().saturating_sub(1)
                        ),
                    )
                }),
        },
        (None, Field::Str(s)) if !s.trim().is_empty() => Ok(s.clone()),
        (None, Field::Bool(b)) => Ok(b.to_string()),
        (None, other) => Err(column_error(
            path,
            column,
            format!(
                "row {row}: {} is not a label; a label is a non-empty string, an integer or a \
                 boolean",
                describe(other)
            ),
        )),
    }
}

/// What a value is, for messages: its type and, for scalars, the value.
fn describe(field: &Field) -> String {
    match field {
        Field::Null => "null".into(),
        Field::Str(s) => format!("the string {s:?}"),
        Field::Group(_) => "a struct".into(),
        Field::ListInternal(_) => "a list".into(),
        Field::MapInternal(_) => "a map".into(),
        Field::Bytes(_) => "binary data".into(),
        other => format!("the value {other}"),
    }
}

/// `names` of `column`'s `ClassLabel` in the `huggingface` metadata that `datasets` writes:
/// `{"info": {"features": {"<column>": {"_type": "ClassLabel", "names": [...]}}}}`.
fn class_label_names(
    key_values: Option<&Vec<parquet::file::metadata::KeyValue>>,
    column: &str,
) -> Option<Vec<String>> {
    let json = key_values?
        .iter()
        .find(|kv| kv.key == "huggingface")?
        .value
        .as_deref()?;
    let value: serde_json::Value = serde_json::from_str(json).ok()?;
    let feature = value.get("info")?.get("features")?.get(column)?;
    if feature.get("_type")?.as_str()? != "ClassLabel" {
        return None;
    }
    feature
        .get("names")?
        .as_array()?
        .iter()
        .map(|n| n.as_str().map(str::to_string))
        .collect()
}

/// Parquet files for tests, written as `datasets` writes them (snappy, `huggingface` metadata).
#[cfg(test)]
pub(crate) mod write {
    use parquet::basic::Compression;
    use parquet::data_type::{ByteArray, ByteArrayType, Int64Type};
    use parquet::file::metadata::KeyValue;
    use parquet::file::properties::WriterProperties;
    use parquet::file::writer::SerializedFileWriter;
    use std::path::Path;
    use std::sync::Arc;

    /// A column's values.
    pub(crate) enum Values<'a> {
        Text(&'a [&'a str]),
        Int(&'a [i64]),
    }

    /// Writes required columns `(name, values)`; `class_label` = `(column, names)` adds the
    /// `huggingface` metadata declaring it a ClassLabel.
    pub(crate) fn parquet(
        path: &Path,
        columns: &[(&str, Values<'_>)],
        class_label: Option<(&str, &[&str])>,
    ) {
        let fields: Vec<String> = columns
            .iter()
            .map(|(name, values)| match values {
                Values::Text(_) => format!("REQUIRED BYTE_ARRAY {name} (UTF8);"),
                Values::Int(_) => format!("REQUIRED INT64 {name};"),
            })
            .collect();
        let schema = parquet::schema::parser::parse_message_type(&format!(
            "message schema {{ {} }}",
            fields.join(" ")
        ))
        .unwrap();
        let metadata = class_label.map(|(column, names)| {
            let info = serde_json::json!({"info": {"features": {
                column: {"names": names, "_type": "ClassLabel"}
            }}});
            vec![KeyValue::new("huggingface".into(), info.to_string())]
        });
        let props = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_key_value_metadata(metadata)
            .build();
        let file = std::fs::File::create(path).unwrap();
        let mut writer =
            SerializedFileWriter::new(file, Arc::new(schema), Arc::new(props)).unwrap();
        let mut group = writer.next_row_group().unwrap();
        for (_, values) in columns {
            let mut column = group.next_column().unwrap().unwrap();
            match values {
                Values::Text(texts) => {
                    let data: Vec<ByteArray> = texts.iter().map(|t| (*t).into()).collect();
                    column
                        .typed::<ByteArrayType>()
                        .write_batch(&data, None, None)
                        .unwrap();
                }
                Values::Int(ints) => {
                    column
                        .typed::<Int64Type>()
                        .write_batch(ints, None, None)
                        .unwrap();
                }
            }
            column.close().unwrap();
        }
        group.close().unwrap();
        writer.close().unwrap();
    }
}
