//! config stage: the JSON Schema of `strata.toml`, derived from the raw config types the
//! loader deserialises (`schemars`), so the schema and the loader cannot disagree. Used
//! by editors (Taplo, Even Better TOML) for completion and checks as you type; the copy
//! in `docs/strata.schema.json` is tested to equal it. Pure; reads nothing.

use serde_json::Value;

use super::RawConfig;

/// Where the schema is published in the repository.
pub const DOCS_PATH: &str = "docs/strata.schema.json";

/// The schema, as pretty JSON with a trailing newline (the file's exact text).
pub fn text() -> String {
    let mut text = serde_json::to_string_pretty(&schema()).unwrap_or_default();
    text.push('\n');
    text
}

/// The schema document: JSON Schema draft 7 (what Taplo and most editors read), TOML
/// having no null, an optional key is simply absent.
pub fn schema() -> Value {
    let generator = schemars::generate::SchemaSettings::draft07().into_generator();
    let mut schema = generator.into_root_schema_for::<RawConfig>().to_value();
    drop_null(&mut schema);
    if let Some(object) = schema.as_object_mut() {
        object.insert(
            "$id".to_owned(),
            Value::String(
                "https://github.com/strata-dev/strata/blob/main/docs/strata.schema.json".to_owned(),
            ),
        );
    }
    schema
}

/// Removes `null` from every `"type"` list and `anyOf` (an optional key is absent in
/// TOML, never null), leaving a single type as a plain string and a single reference as
/// an `allOf` (so the key's own description stays valid next to it in draft 7).
fn drop_null(value: &mut Value) {
    match value {
        Value::Object(object) => {
            if let Some(Value::Array(types)) = object.get_mut("type") {
                types.retain(|t| t != "null");
                if types.len() == 1 {
                    let only = types.remove(0);
                    object.insert("type".to_owned(), only);
                }
            }
            if let Some(Value::Array(choices)) = object.get_mut("anyOf") {
                choices.retain(|c| c.get("type").is_none_or(|t| t != "null"));
                if choices.len() == 1 {
                    let only = choices.remove(0);
                    object.remove("anyOf");
                    object.insert("allOf".to_owned(), Value::Array(vec![only]));
                }
            }
            for child in object.values_mut() {
                drop_null(child);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(drop_null),
        _ => {}
    }
}
