//! Inline SVG charts for the report: line charts (training curves, temporal outputs), heatmaps
//! (attention α), bar charts (attention β) and sequence logos (attribution maps, ground truth,
//! class optimization).
//!
//! Written directly rather than with a plotting crate: plotters, the well-kept Rust choice, needs
//! a font backend (system fonts or an embedded TTF) to measure text even when it writes SVG, and
//! these charts are simple; here the browser lays out the text.

use std::fmt::Write;

/// Colours of A, C, G, T in logos (the usual green, blue, orange, red).
const BASE_COLOURS: [&str; 4] = ["#109648", "#255c99", "#f7b32b", "#d62839"];
/// Colours of line series, in order (matplotlib's tab10).
const SERIES_COLOURS: [&str; 10] =
    ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
/// Series with at most this many points get a marker at each point (a single point is otherwise
/// invisible); longer ones, such as training curves, are drawn as lines only.
const MARKED_POINTS: usize = 12;

/// Escape text for HTML and SVG.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// One named series of (x, y) points; non-finite y values leave a gap.
pub struct Series {
    /// Legend label.
    pub name: String,
    /// Points.
    pub points: Vec<(f64, f64)>,
}

fn extent(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    let (lo, hi) =
        values.filter(|v| v.is_finite()).fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(v), b.max(v)));
    if lo > hi {
        return None;
    }
    Some(if hi - lo < 1e-12 { (lo - 0.5, hi + 0.5) } else { (lo, hi) })
}

fn tick(v: f64) -> String {
    if v.abs() >= 1000.0 || (v != 0.0 && v.abs() < 0.01) {
        format!("{v:.1e}")
    } else {
        format!("{v:.3}").trim_end_matches('0').trim_end_matches('.').to_owned()
    }
}

/// A line chart with axes, three ticks per axis and a legend.
pub fn line_chart(title: &str, x_label: &str, series: &[Series]) -> String {
    line_chart_with_x_ticks(title, x_label, series, tick)
}

/// [`line_chart`] with the x tick labels written by `x_tick` (for an axis drawn on a transformed
/// scale, e.g. log2 of a ratio labelled with the ratio itself).
pub fn line_chart_with_x_ticks(
    title: &str,
    x_label: &str,
    series: &[Series],
    x_tick: impl Fn(f64) -> String,
) -> String {
    // The legend sits in the right margin, outside the plotting area.
    let (w, h, left, right, top, bottom) = (540.0, 240.0, 52.0, 150.0, 26.0, 40.0);
    let all = || series.iter().flat_map(|s| s.points.iter());
    let (Some((x0, x1)), Some((y0, y1))) = (extent(all().map(|p| p.0)), extent(all().map(|p| p.1))) else {
        return String::new();
    };
    let sx = |x: f64| left + (x - x0) / (x1 - x0) * (w - left - right);
    let sy = |y: f64| h - bottom - (y - y0) / (y1 - y0) * (h - top - bottom);
    let mut s = format!(
        r#"<svg class="chart" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img"><title>{}</title>"#,
        escape(title)
    );
    let _ = write!(s, r#"<text x="{left}" y="16" class="title">{}</text>"#, escape(title));
    let _ =
        write!(s, r##"<line x1="{left}" y1="{}" x2="{}" y2="{}" stroke="#333"/>"##, h - bottom, w - right, h - bottom);
    let _ = write!(s, r##"<line x1="{left}" y1="{top}" x2="{left}" y2="{}" stroke="#333"/>"##, h - bottom);
    for i in 0..3 {
        let f = i as f64 / 2.0;
        let (xv, yv) = (x0 + f * (x1 - x0), y0 + f * (y1 - y0));
        let _ = write!(
            s,
            r#"<text x="{:.1}" y="{}" class="tick" text-anchor="middle">{}</text>"#,
            sx(xv),
            h - bottom + 14.0,
            escape(&x_tick(xv))
        );
        let _ = write!(
            s,
            r#"<text x="{}" y="{:.1}" class="tick" text-anchor="end">{}</text>"#,
            left - 4.0,
            sy(yv) + 4.0,
            tick(yv)
        );
    }
    let _ = write!(
        s,
        r#"<text x="{}" y="{}" class="tick" text-anchor="middle">{}</text>"#,
        (left + w - right) / 2.0,
        h - 6.0,
        escape(x_label)
    );
    for (i, one) in series.iter().enumerate() {
        let colour = SERIES_COLOURS[i % SERIES_COLOURS.len()];
        let mut path = String::new();
        let mut pen_down = false;
        for &(x, y) in &one.points {
            if !y.is_finite() {
                pen_down = false;
                continue;
            }
            let _ = write!(path, "{}{:.1},{:.1} ", if pen_down { "L" } else { "M" }, sx(x), sy(y));
            pen_down = true;
        }
        let _ = write!(s, r#"<path d="{path}" fill="none" stroke="{colour}" stroke-width="1.6"/>"#);
        if one.points.len() <= MARKED_POINTS {
            for &(x, y) in one.points.iter().filter(|p| p.1.is_finite()) {
                let _ = write!(s, r#"<circle cx="{:.1}" cy="{:.1}" r="2.5" fill="{colour}"/>"#, sx(x), sy(y));
            }
        }
        let ly = top + 4.0 + 14.0 * i as f64;
        let _ = write!(s, r#"<rect x="{}" y="{}" width="10" height="3" fill="{colour}"/>"#, w - right + 10.0, ly);
        let _ =
            write!(s, r#"<text x="{}" y="{}" class="tick">{}</text>"#, w - right + 24.0, ly + 5.0, escape(&one.name));
    }
    s + "</svg>"
}

/// A heatmap of `values` (rows × columns, row-major) with row labels, white (minimum) → dark
/// blue (maximum).
pub fn heatmap(title: &str, row_labels: &[String], columns: usize, values: &[f32]) -> String {
    heatmap_with_axis(title, row_labels, columns, values, &format!("bin 1 … {columns}"))
}

/// [`heatmap`] with its own description of the columns (`axis`, before the colour scale).
pub fn heatmap_with_axis(title: &str, row_labels: &[String], columns: usize, values: &[f32], axis: &str) -> String {
    let (left, top, cell_w, cell_h) = (90.0, 26.0, (560.0 / columns.max(1) as f64).max(1.0), 18.0);
    let (w, h) = (left + cell_w * columns as f64 + 10.0, top + cell_h * row_labels.len() as f64 + 24.0);
    let finite = || values.iter().copied().filter(|v| v.is_finite());
    let (min, max) = (finite().fold(f32::INFINITY, f32::min), finite().fold(f32::NEG_INFINITY, f32::max));
    let span = (max - min).max(1e-12);
    let mut s = format!(
        r#"<svg class="chart" width="{w:.0}" height="{h:.0}" viewBox="0 0 {w:.0} {h:.0}" role="img"><title>{}</title>"#,
        escape(title)
    );
    let _ = write!(s, r#"<text x="4" y="16" class="title">{}</text>"#, escape(title));
    for (r, label) in row_labels.iter().enumerate() {
        let y = top + cell_h * r as f64;
        let _ = write!(
            s,
            r#"<text x="{}" y="{:.1}" class="tick" text-anchor="end">{}</text>"#,
            left - 4.0,
            y + 13.0,
            escape(label)
        );
        for c in 0..columns {
            let v = ((values[r * columns + c] - min) / span).clamp(0.0, 1.0);
            let shade = |full: f32| (255.0 - v * (255.0 - full)) as u8;
            let _ = write!(
                s,
                r#"<rect x="{:.2}" y="{y:.1}" width="{:.2}" height="{cell_h}" fill="rgb({},{},{})"/>"#,
                left + cell_w * c as f64,
                cell_w + 0.05,
                shade(8.0),
                shade(48.0),
                shade(107.0)
            );
        }
    }
    let _ = write!(
        s,
        r#"<text x="{left}" y="{:.0}" class="tick">{}; white {min:.3} → dark {max:.3}</text>"#,
        h - 6.0,
        escape(axis)
    );
    s + "</svg>"
}

/// A horizontal bar chart of labelled values.
pub fn bars(title: &str, labels: &[String], values: &[f32]) -> String {
    let (left, top, bar_h, width) = (90.0, 26.0, 16.0, 260.0);
    let h = top + (bar_h + 4.0) * labels.len() as f64 + 8.0;
    let max = values.iter().copied().fold(0f32, f32::max).max(1e-12) as f64;
    let mut s = format!(
        r#"<svg class="chart" width="{}" height="{h:.0}" viewBox="0 0 {} {h:.0}" role="img"><title>{}</title>"#,
        left + width + 60.0,
        left + width + 60.0,
        escape(title)
    );
    let _ = write!(s, r#"<text x="4" y="16" class="title">{}</text>"#, escape(title));
    for (i, (label, &v)) in labels.iter().zip(values).enumerate() {
        let y = top + (bar_h + 4.0) * i as f64;
        let len = (v as f64 / max * width).max(0.0);
        let _ = write!(
            s,
            r#"<text x="{}" y="{:.1}" class="tick" text-anchor="end">{}</text>"#,
            left - 4.0,
            y + 12.0,
            escape(label)
        );
        let _ = write!(s, r##"<rect x="{left}" y="{y:.1}" width="{len:.1}" height="{bar_h}" fill="#255c99"/>"##);
        let _ = write!(s, r#"<text x="{:.1}" y="{:.1}" class="tick">{v:.3}</text>"#, left + len + 4.0, y + 12.0);
    }
    s + "</svg>"
}

/// One labelled estimate with its interval, for [`intervals`].
pub struct Interval {
    /// Row label.
    pub label: String,
    /// The estimate (drawn as a dot).
    pub estimate: f64,
    /// Lower and upper ends (drawn as a whisker).
    pub low: f64,
    /// Upper end.
    pub high: f64,
}

/// A forest plot: one row per estimate with its interval, on a shared x axis that always
/// includes 0 (drawn as a dashed line: no difference).
pub fn intervals(title: &str, x_label: &str, rows: &[Interval]) -> String {
    let (left, top, row_h, width) = (170.0, 26.0, 18.0, 280.0);
    let h = top + row_h * rows.len() as f64 + 34.0;
    let values = rows.iter().flat_map(|r| [r.low, r.high, r.estimate]).chain([0.0]);
    let (lo, hi) = extent(values).unwrap_or((-1.0, 1.0));
    let pad = (hi - lo) * 0.05;
    let (lo, hi) = (lo - pad, hi + pad);
    let x = |v: f64| left + (v - lo) / (hi - lo) * width;
    let total_w = left + width + 20.0;
    let mut s = format!(
        r#"<svg class="chart" width="{total_w}" height="{h:.0}" viewBox="0 0 {total_w} {h:.0}" role="img"><title>{}</title>"#,
        escape(title)
    );
    let _ = write!(s, r#"<text x="4" y="16" class="title">{}</text>"#, escape(title));
    let bottom = top + row_h * rows.len() as f64;
    let _ = write!(
        s,
        r##"<line x1="{z:.1}" y1="{top}" x2="{z:.1}" y2="{bottom:.1}" stroke="#999" stroke-dasharray="3,3"/>"##,
        z = x(0.0)
    );
    for (i, r) in rows.iter().enumerate() {
        let y = top + row_h * i as f64 + row_h / 2.0;
        let _ = write!(
            s,
            r#"<text x="{}" y="{:.1}" class="tick" text-anchor="end">{}</text>"#,
            left - 6.0,
            y + 3.5,
            escape(&r.label)
        );
        if r.low.is_finite() && r.high.is_finite() {
            let _ = write!(
                s,
                r##"<line x1="{:.1}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#255c99" stroke-width="2"/>"##,
                x(r.low),
                x(r.high)
            );
        }
        if r.estimate.is_finite() {
            let _ = write!(s, r##"<circle cx="{:.1}" cy="{y:.1}" r="3.5" fill="#d62728"/>"##, x(r.estimate));
        }
    }
    let _ =
        write!(s, r##"<line x1="{left}" y1="{bottom:.1}" x2="{:.1}" y2="{bottom:.1}" stroke="#444"/>"##, left + width);
    // The ends of the axis, and 0 where its label does not run into theirs.
    let zero_clear = (x(0.0) - x(lo)).min(x(hi) - x(0.0)) > 45.0;
    for v in [lo, 0.0, hi] {
        if v == 0.0 && !zero_clear {
            continue;
        }
        let _ = write!(
            s,
            r#"<text x="{:.1}" y="{:.1}" class="tick" text-anchor="middle">{}</text>"#,
            x(v),
            bottom + 13.0,
            tick(v)
        );
    }
    let _ = write!(
        s,
        r#"<text x="{:.1}" y="{:.1}" class="tick" text-anchor="middle">{}</text>"#,
        left + width / 2.0,
        bottom + 28.0,
        escape(x_label)
    );
    s + "</svg>"
}

/// A sequence logo: at each position, letters stacked with signed heights (positive above the
/// axis, negative below, largest nearest the axis on each side). `heights` is channel-major
/// (C × L); `alphabet` names the channels.
pub fn logo(title: &str, alphabet: &[String], heights: &[f32], length: usize) -> String {
    let (left, top, w_total, half) = (40.0, 22.0, 820.0, 46.0);
    let col = (w_total - left - 10.0) / length.max(1) as f64;
    let c = alphabet.len();
    let column = |i: usize| -> Vec<(usize, f32)> { (0..c).map(|b| (b, heights[b * length + i])).collect() };
    let scale = (0..length)
        .map(|i| {
            let col = column(i);
            let up: f32 = col.iter().map(|(_, v)| v.max(0.0)).sum();
            let down: f32 = col.iter().map(|(_, v)| (-v).max(0.0)).sum();
            up.max(down)
        })
        .fold(0f32, f32::max)
        .max(1e-12) as f64;
    let has_negative = heights.iter().any(|&v| v < 0.0);
    let axis = top + half;
    let h = axis + if has_negative { half } else { 0.0 } + 16.0;
    let mut s = format!(
        r#"<svg class="logo" width="{w_total}" height="{h:.0}" viewBox="0 0 {w_total} {h:.0}" role="img"><title>{}</title>"#,
        escape(title)
    );
    let _ = write!(s, r#"<text x="4" y="14" class="title">{}</text>"#, escape(title));
    let _ = write!(
        s,
        r##"<line x1="{left}" y1="{axis}" x2="{}" y2="{axis}" stroke="#999" stroke-width="0.5"/>"##,
        w_total - 10.0
    );
    let _ = write!(
        s,
        r#"<text x="{}" y="{}" class="tick" text-anchor="end">{}</text>"#,
        left - 4.0,
        top + 8.0,
        tick(scale)
    );
    for i in 0..length {
        let x = left + col * i as f64;
        let mut letters = column(i);
        letters.sort_by(|a, b| a.1.abs().total_cmp(&b.1.abs()));
        // Positive letters: smallest on top, so stack from the axis up largest first.
        let (mut up, mut down) = (axis, axis);
        for &(b, v) in letters.iter().rev() {
            let height = (v.abs() as f64 / scale) * half;
            if height < 0.05 {
                continue;
            }
            let colour = BASE_COLOURS.get(b).copied().unwrap_or("#555");
            let glyph = escape(&alphabet[b]);
            // A capital letter's cap height is ~0.72 em: scale the glyph so it fills `height`.
            let (y, flip) = if v >= 0.0 {
                up -= height;
                (up + height, 1.0)
            } else {
                down += height;
                (down - height, -1.0)
            };
            let sy = height / 0.72 / 10.0 * flip;
            let _ = write!(
                s,
                r#"<text transform="translate({x:.2},{y:.2}) scale({:.3},{sy:.3})" textLength="{:.2}" lengthAdjust="spacingAndGlyphs" font-size="10" font-family="Arial, Helvetica, sans-serif" font-weight="bold" fill="{colour}">{glyph}</text>"#,
                1.0,
                col * 0.98
            );
        }
    }
    let _ = write!(s, r#"<text x="{left}" y="{:.0}" class="tick">position 1 … {length}</text>"#, h - 3.0);
    s + "</svg>"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_are_well_formed_and_escape_text() {
        let series = vec![Series { name: "a<b".into(), points: vec![(1.0, 0.5), (2.0, f64::NAN), (3.0, 0.7)] }];
        let chart = line_chart("loss & AUPR", "epoch", &series);
        assert!(chart.starts_with("<svg") && chart.ends_with("</svg>"));
        assert!(chart.contains("loss &amp; AUPR") && chart.contains("a&lt;b"));
        // The NaN breaks the line into two pieces.
        assert_eq!(chart.matches('M').count(), 2);
        let alphabet: Vec<String> = ["A", "C", "G", "T"].iter().map(|s| s.to_string()).collect();
        let l = logo("x", &alphabet, &[1.0, 0.0, 0.0, -0.5, 0.0, 0.0, 0.0, 0.0], 2);
        // A above the axis at position 1, T below at position 2 (negative scale), nothing else.
        assert_eq!(l.matches("<text transform").count(), 2);
        assert!(l.contains(",-"), "a negative letter is flipped: {l}");
        assert!(heatmap("h", &["m1".into()], 3, &[0.0, 0.5, 1.0]).contains("rgb(8,48,107)"));
    }
}
