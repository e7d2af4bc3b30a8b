//! The one derive list of the enums that name a setting.

/// A setting chosen by name, on the command line (strum) and in model.json (serde, with its JSON
/// Schema): the same kebab-case names in both.
macro_rules! setting_enum {
    ($(#[$meta:meta])* $vis:vis enum $name:ident { $($body:tt)* }) => {
        $(#[$meta])*
        #[derive(
            Debug,
            Clone,
            Copy,
            PartialEq,
            Eq,
            serde::Serialize,
            serde::Deserialize,
            schemars::JsonSchema,
            strum::EnumString,
            strum::IntoStaticStr,
            strum::VariantArray,
            strum::EnumMessage,
            strum::EnumProperty,
        )]
        #[strum(serialize_all = "kebab-case")]
        #[serde(rename_all = "kebab-case")]
        $vis enum $name { $($body)* }
    };
}

pub(crate) use setting_enum;
