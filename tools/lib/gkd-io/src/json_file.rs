//! The JSON sidecars the tools write beside their outputs (scan manifests, variant-effect
//! sidecars): pretty JSON with a trailing newline, staged atomically, read back with the line of a
//! parse error, and the type's JSON Schema with its `$id`.

use std::path::Path;

use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::atomic::AtomicFile;
use crate::error::{Error, IoResultExt, Result};

/// Pretty JSON with a trailing newline.
pub fn to_json<T: Serialize>(value: &T) -> String {
    serde_json::to_string_pretty(value).expect("sidecar types serialise") + "\n"
}

/// Stage `value` as JSON at `path`.
pub fn stage<T: Serialize>(value: &T, path: &Path) -> Result<AtomicFile> {
    let mut out = AtomicFile::create(path)?;
    out.write_all(to_json(value).as_bytes())?;
    Ok(out)
}

/// Read a `T` from `path`; a parse error names the line and says the file is not `what`.
pub fn read<T: DeserializeOwned>(path: &Path, what: &str) -> Result<T> {
    let text = std::fs::read_to_string(path).with_path(path)?;
    serde_json::from_str(&text).map_err(|e| Error::at_line(path, e.line() as u64, format!("not {what}: {e}")))
}

/// The JSON Schema (draft 2020-12) of `T` with `$id` set to `id`.
pub fn schema_with_id<T: JsonSchema>(id: &str) -> serde_json::Value {
    let mut schema = serde_json::to_value(schemars::schema_for!(T)).expect("schema serialises");
    schema["$id"] = serde_json::Value::String(id.to_owned());
    schema
}
