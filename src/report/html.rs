//! `report.html`: the Markdown report as one self-contained page (inline
//! style, no external resource) with an SVG chart of image-update latency
//! by workload strategy and cell, drawn with plotters.

use std::collections::BTreeMap;

use plotters::prelude::*;

use crate::judge::phases::Milestone;
use crate::model::record::{Admission, ScenarioRecord};

/// Median seconds from an image change applied to the update complete, per
/// (strategy, cell): one change type so that strategies compare fairly.
#[derive(Debug, Clone, PartialEq)]
pub struct Latency {
    pub strategy: String,
    pub cell: String,
    pub seconds: f64,
    pub samples: usize,
}

pub fn image_update_latency(records: &[ScenarioRecord]) -> Vec<Latency> {
    let mut samples: BTreeMap<(String, String), Vec<f64>> = BTreeMap::new();
    for record in records {
        let strategy = format!("{} {}", record.workload.kind, record.workload.strategy);
        for step in &record.steps {
            let accepted = step.admission == Admission::Accepted;
            if step.change.kind == "image" && accepted && step.duration_ms > 0 {
                samples
                    .entry((strategy.clone(), cell_of(record)))
                    .or_default()
                    .push(step.duration_ms as f64 / 1000.0);
            }
        }
    }
    samples
        .into_iter()
        .map(|((strategy, cell), mut values)| {
            values.sort_by(f64::total_cmp);
            Latency {
                strategy,
                cell,
                seconds: values[values.len() / 2],
                samples: values.len(),
            }
        })
        .collect()
}

pub fn cell_of(record: &ScenarioRecord) -> String {
    if record.cluster.cell.is_empty() {
        "this cluster".into()
    } else {
        record.cluster.cell.clone()
    }
}

/// Grouped bars: one group per strategy, one bar per cell.
pub fn latency_svg(latency: &[Latency]) -> anyhow::Result<String> {
    let strategies: Vec<&str> = unique(latency.iter().map(|l| l.strategy.as_str()));
    let cells: Vec<&str> = unique(latency.iter().map(|l| l.cell.as_str()));
    anyhow::ensure!(!latency.is_empty(), "no image update was recorded");
    let top = latency.iter().map(|l| l.seconds).fold(1.0, f64::max) * 1.15;
    let width = 140 + 120 * strategies.len() as u32;
    let legend_height = 18 * cells.len() as u32;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width.max(640), 380 + legend_height))
            .into_drawing_area();
        root.fill(&WHITE)?;
        let (chart_area, legend_area) = root.split_vertically(380);
        let mut chart = ChartBuilder::on(&chart_area)
            .caption(
                "image update latency (median s) by strategy and cell",
                ("sans-serif", 16),
            )
            .margin(12)
            .x_label_area_size(60)
            .y_label_area_size(50)
            .build_cartesian_2d(0.0..strategies.len() as f64, 0.0..top)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(0)
            .y_desc("seconds")
            .draw()?;
        // Category names under each group, two lines (kind, strategy).
        for (i, strategy) in strategies.iter().enumerate() {
            let (x, y) = chart.backend_coord(&(i as f64 + 0.5, 0.0));
            let (kind, rest) = strategy.rsplit_once(' ').unwrap_or((strategy, ""));
            let style = ("sans-serif", 12).into_font().into_text_style(&root).pos(
                plotters::style::text_anchor::Pos::new(
                    plotters::style::text_anchor::HPos::Center,
                    plotters::style::text_anchor::VPos::Top,
                ),
            );
            root.draw(&Text::new(kind.to_string(), (x, y + 8), style.clone()))?;
            root.draw(&Text::new(rest.to_string(), (x, y + 24), style))?;
        }
        let slot = 0.8 / cells.len() as f64;
        for (c, cell) in cells.iter().enumerate() {
            let colour = Palette99::pick(c).to_rgba();
            let bars = latency.iter().filter(|l| l.cell == *cell).map(|l| {
                let s = strategies
                    .iter()
                    .position(|x| *x == l.strategy)
                    .unwrap_or(0) as f64;
                let left = s + 0.1 + slot * c as f64;
                Rectangle::new(
                    [(left, 0.0), (left + slot * 0.9, l.seconds)],
                    colour.filled(),
                )
            });
            chart.draw_series(bars)?;
        }
        for (c, cell) in cells.iter().enumerate() {
            let y = 4 + 18 * c as i32;
            let colour = Palette99::pick(c).to_rgba();
            legend_area.draw(&Rectangle::new([(60, y), (74, y + 12)], colour.filled()))?;
            legend_area.draw(&Text::new(cell.to_string(), (80, y), ("sans-serif", 13)))?;
        }
        root.present()?;
    }
    Ok(svg)
}

/// One row per scenario (its first image change): a bar from each
/// milestone to the next, coloured by milestone, so that in place,
/// recreate and rolling update read side by side.
pub fn waterfall_svg(rows: &[(String, Vec<Milestone>)]) -> anyhow::Result<String> {
    anyhow::ensure!(!rows.is_empty(), "no update phases were recorded");
    let ids: Vec<&str> = unique(
        rows.iter()
            .flat_map(|(_, ms)| ms.iter().map(|m| m.id.as_str())),
    );
    let end = rows
        .iter()
        .flat_map(|(_, ms)| ms.iter().map(|m| m.at_ms))
        .max()
        .unwrap_or(1000) as f64
        / 1000.0;
    let height = 60 + 26 * rows.len() as u32;
    let legend_height = 18 * ids.len().div_ceil(3) as u32;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (900, height + 40 + legend_height))
            .into_drawing_area();
        root.fill(&WHITE)?;
        let (chart_area, legend_area) = root.split_vertically(height + 40);
        let mut chart = ChartBuilder::on(&chart_area)
            .caption(
                "image update: seconds after the change was accepted, milestone by milestone",
                ("sans-serif", 16),
            )
            .margin(12)
            .x_label_area_size(30)
            .y_label_area_size(170)
            .build_cartesian_2d(0.0..end * 1.05, 0.0..rows.len() as f64)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(0)
            .x_desc("seconds")
            .draw()?;
        for (r, (scenario, milestones)) in rows.iter().enumerate() {
            let y = rows.len() as f64 - r as f64 - 0.5;
            let (px, py) = chart.backend_coord(&(0.0, y));
            let style = ("sans-serif", 12).into_font().into_text_style(&root).pos(
                plotters::style::text_anchor::Pos::new(
                    plotters::style::text_anchor::HPos::Right,
                    plotters::style::text_anchor::VPos::Center,
                ),
            );
            root.draw(&Text::new(scenario.clone(), (px - 6, py), style))?;
            let mut from = 0.0;
            for m in milestones {
                let to = (m.at_ms.max(0) as f64) / 1000.0;
                let colour = Palette99::pick(ids.iter().position(|i| *i == m.id).unwrap_or(0));
                let right = if to > from { to } else { from + end * 0.004 };
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(from, y - 0.35), (right, y + 0.35)],
                    colour.to_rgba().filled(),
                )))?;
                from = from.max(to);
            }
        }
        for (i, id) in ids.iter().enumerate() {
            let (x, y) = (20 + 290 * (i % 3) as i32, 4 + 18 * (i / 3) as i32);
            let colour = Palette99::pick(i).to_rgba();
            legend_area.draw(&Rectangle::new([(x, y), (x + 14, y + 12)], colour.filled()))?;
            legend_area.draw(&Text::new(
                format!("until {id}"),
                (x + 20, y),
                ("sans-serif", 12),
            ))?;
        }
        root.present()?;
    }
    Ok(svg)
}

/// The rows of the waterfall: each scenario's first image change.
pub fn image_phases(records: &[ScenarioRecord]) -> Vec<(String, Vec<Milestone>)> {
    let mut rows: Vec<(String, Vec<Milestone>)> = records
        .iter()
        .filter_map(|r| {
            let step = crate::report::step_phases(r)
                .into_iter()
                .find(|p| p.change == "image")?;
            Some((r.scenario.clone(), step.milestones))
        })
        .collect();
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    rows
}

fn unique<'a>(items: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut seen: Vec<&str> = Vec::new();
    for item in items {
        if !seen.contains(&item) {
            seen.push(item);
        }
    }
    seen
}

const STYLE: &str = "body{font-family:sans-serif;max-width:1400px;margin:2em auto;padding:0 1em}\
table{border-collapse:collapse;margin:1em 0;font-size:13px}\
th,td{border:1px solid #ccc;padding:4px 6px;vertical-align:top}\
th{background:#f3f3f3}code{background:#f6f6f6;padding:0 2px}";

/// The whole page: the Markdown report rendered, the charts (heading,
/// SVG) after the title.
pub fn page(title: &str, markdown: &str, charts: &[(&str, String)]) -> String {
    let mut options = pulldown_cmark::Options::empty();
    options.insert(pulldown_cmark::Options::ENABLE_TABLES);
    let parser = pulldown_cmark::Parser::new_ext(markdown, options);
    let mut body = String::new();
    pulldown_cmark::html::push_html(&mut body, parser);
    // PASS/FAIL stand out as they do in the Markdown's bold.
    let body = body
        .replace(
            "<strong>PASS</strong>",
            "<strong style=\"color:#1a7f37\">PASS</strong>",
        )
        .replace(
            "<strong>FAIL</strong>",
            "<strong style=\"color:#cf222e\">FAIL</strong>",
        )
        .replace(
            "<strong>UNSUPPORTED</strong>",
            "<strong style=\"color:#9a6700\">UNSUPPORTED</strong>",
        );
    let chart: String = charts
        .iter()
        .map(|(heading, svg)| format!("<h2>{heading}</h2>\n<figure>{svg}</figure>\n"))
        .collect();
    let (head, rest) = match body.find("</h1>") {
        Some(i) => body.split_at(i + "</h1>".len()),
        None => ("", body.as_str()),
    };
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>{}</title><style>{STYLE}</style></head>\n<body>\n{head}\n{chart}{rest}</body></html>\n",
        pulldown_cmark_escape_text(title)
    )
}

fn pulldown_cmark_escape_text(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::record::samples;

    fn in_cell(mut record: ScenarioRecord, cell: &str) -> ScenarioRecord {
        record.cluster.cell = cell.into();
        record
    }

    #[test]
    fn latency_is_the_median_per_strategy_and_cell() {
        let records = vec![
            in_cell(samples::in_place(), "a"),
            in_cell(samples::recreate(), "a"),
            in_cell(samples::in_place(), "b"),
        ];
        let latency = image_update_latency(&records);
        assert_eq!(latency.len(), 3, "{latency:?}");
        let expected = samples::in_place().steps[0].duration_ms as f64 / 1000.0;
        let inplace_a = latency
            .iter()
            .find(|l| l.cell == "a" && l.strategy == "CloneSet InPlaceIfPossible")
            .unwrap();
        assert_eq!(inplace_a.seconds, expected);
    }

    #[test]
    fn the_chart_is_an_svg_with_a_bar_per_cell_and_strategy() {
        let latency = vec![
            Latency {
                strategy: "CloneSet InPlaceIfPossible".into(),
                cell: "a".into(),
                seconds: 4.0,
                samples: 1,
            },
            Latency {
                strategy: "CloneSet ReCreate".into(),
                cell: "a".into(),
                seconds: 9.0,
                samples: 1,
            },
            Latency {
                strategy: "CloneSet InPlaceIfPossible".into(),
                cell: "b".into(),
                seconds: 5.0,
                samples: 1,
            },
        ];
        let svg = latency_svg(&latency).unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..80.min(svg.len())]);
        assert!(svg.contains("\nb\n</text>"), "{svg}");
        assert!(svg.contains("\nReCreate\n</text>"), "{svg}");
        assert!(latency_svg(&[]).is_err());
    }

    #[test]
    fn the_waterfall_has_a_row_per_scenario_and_a_legend_per_milestone() {
        let m = |id: &str, at_ms| Milestone {
            id: id.into(),
            what: id.into(),
            at_ms,
            pod: "p".into(),
        };
        let rows = vec![
            (
                "inplace-image".to_string(),
                vec![m("pod-updated", 50), m("workload-done", 4200)],
            ),
            (
                "cloneset-recreate".to_string(),
                vec![m("new-pod-created", 130), m("workload-done", 4100)],
            ),
        ];
        let svg = waterfall_svg(&rows).unwrap();
        assert!(svg.starts_with("<svg"));
        for text in [
            "inplace-image",
            "cloneset-recreate",
            "until pod-updated",
            "until new-pod-created",
        ] {
            assert!(svg.contains(text), "{text}");
        }
        assert!(waterfall_svg(&[]).is_err());
    }

    #[test]
    fn the_page_is_self_contained() {
        let page = page(
            "t",
            "# Title\n\n| a |\n| --- |\n| **PASS** |\n",
            &[("Chart", "<svg></svg>".to_string())],
        );
        assert!(page.contains("<table>"));
        assert!(page.contains("color:#1a7f37"));
        assert!(page.find("<svg>").unwrap() > page.find("</h1>").unwrap());
        assert!(!page.contains("http://") && !page.contains("https://"));
    }
}
