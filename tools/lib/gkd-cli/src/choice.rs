//! One policy for library enums on the command line: a library names its variants once, with
//! strum (`serialize_all = "kebab-case"`, the same spelling its serde attribute writes to JSON),
//! and documents them with doc comments; the tools parse them with [`choice`], which lists every
//! variant with its documentation in `--help`. Libraries never depend on clap.

use std::str::FromStr;

use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};

/// An enum a tool accepts on its command line, as the strum derives of a library give it:
/// `strum::{EnumString, IntoStaticStr, VariantArray, EnumMessage, EnumProperty}`. A variant with
/// `#[strum(props(cli = "hidden"))]` exists in files but is not offered on the command line.
pub trait CommandLineName:
    FromStr + strum::VariantArray + strum::EnumMessage + strum::EnumProperty + Copy + Send + Sync + 'static
where
    &'static str: From<Self>,
{
}

impl<T> CommandLineName for T
where
    T: FromStr + strum::VariantArray + strum::EnumMessage + strum::EnumProperty + Copy + Send + Sync + 'static,
    &'static str: From<T>,
{
}

/// A clap value parser for `T`: its variants by name, each with its doc comment as help.
pub fn choice<T>() -> impl TypedValueParser<Value = T>
where
    T: CommandLineName,
    &'static str: From<T>,
    <T as FromStr>::Err: std::error::Error + Send + Sync + 'static,
{
    let values = T::VARIANTS.iter().filter(|v| v.get_str("cli") != Some("hidden")).map(|&v| {
        let name: &'static str = v.into();
        PossibleValue::new(name).help(v.get_documentation().unwrap_or_default().trim())
    });
    PossibleValuesParser::new(values).try_map(|name| name.parse::<T>())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    /// The kind of fruit.
    #[derive(
        Debug,
        Clone,
        Copy,
        PartialEq,
        Eq,
        strum::EnumString,
        strum::IntoStaticStr,
        strum::VariantArray,
        strum::EnumMessage,
        strum::EnumProperty,
    )]
    #[strum(serialize_all = "kebab-case")]
    enum Fruit {
        /// A red one.
        RedApple,
        /// A long one.
        Banana,
        /// Only in files.
        #[strum(props(cli = "hidden"))]
        Internal,
    }

    #[derive(Debug, Parser)]
    struct Args {
        #[arg(long, value_parser = choice::<Fruit>(), default_value = "banana")]
        fruit: Fruit,
    }

    #[test]
    fn parses_the_strum_names_and_refuses_hidden_and_unknown_ones() {
        assert_eq!(Args::try_parse_from(["t", "--fruit", "red-apple"]).unwrap().fruit, Fruit::RedApple);
        assert_eq!(Args::try_parse_from(["t"]).unwrap().fruit, Fruit::Banana);
        for refused in ["internal", "RedApple", "apple"] {
            let error = Args::try_parse_from(["t", "--fruit", refused]).unwrap_err().to_string();
            assert!(error.contains("possible values: red-apple, banana"), "{error}");
        }
    }

    #[test]
    fn help_shows_each_variants_documentation() {
        use clap::CommandFactory;
        let help = Args::command().render_long_help().to_string();
        assert!(help.contains("red-apple: A red one") && help.contains("banana:    A long one"), "{help}");
        assert!(!help.contains("internal"), "{help}");
    }
}
