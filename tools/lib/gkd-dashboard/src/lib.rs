//! The HTML dashboard of a gkd study, rendered for `gkd-report`: one self-contained page (inline
//! SVG and CSS, no scripts, no external requests). [`summary`] opens it (one row per model);
//! [`sections`] renders score reports (with the figures of a sweep, [`sweep`], or of a
//! compression study, [`compression`]; robustness curves, [`robustness`]), training curves, attribution logos beside the ground
//! truth, TF-MoDISco patterns, class optimisation, temporal outputs and attention maps, all drawn
//! by [`svg`].

pub mod compression;
pub mod networks;
pub mod robustness;
pub mod sections;
pub mod summary;
pub mod svg;
pub mod sweep;

use crate::svg::escape;

/// The whole HTML page: `body` (the sections) under a heading, with the page's style sheet;
/// `tool` and `version` name the writer in the page.
pub fn page(title: &str, tool: &str, version: &str, body: &str) -> String {
    format!(
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{t}</title>
<style>
body {{ font-family: Arial, Helvetica, sans-serif; margin: 24px; color: #222; }}
h1 {{ font-size: 22px; }} h2 {{ font-size: 18px; margin-top: 28px; border-bottom: 1px solid #ddd; }} h3 {{ font-size: 15px; }}
table {{ border-collapse: collapse; margin: 8px 0 16px; font-size: 13px; }}
th, td {{ border: 1px solid #ccc; padding: 3px 8px; text-align: right; }} th {{ background: #f3f3f3; }}
td:first-child, th:first-child {{ text-align: left; }}
.row {{ display: flex; flex-wrap: wrap; gap: 12px; }}
svg text.title {{ font-size: 12px; font-weight: bold; }} svg text.tick {{ font-size: 10px; fill: #444; }}
.muted {{ color: #777; font-size: 12px; }}
</style></head><body>
<h1>{t}</h1>
<p class="muted">Written by {tool} {version}. Self-contained: no scripts, no external requests.</p>
{body}
</body></html>
"#,
        t = escape(title),
    )
}
