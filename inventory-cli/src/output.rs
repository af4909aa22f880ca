//! Printing: JSON for scripts, aligned tables and trees for people.

use std::io::Write;

use inventory_db::{Outline, OutlineNode};
use serde::Serialize;

use crate::error::CliError;

/// Prints `value` as pretty JSON on stdout, followed by a newline.
pub fn json<T: Serialize + ?Sized>(value: &T) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    Ok(())
}

/// Prints rows under a header, each column padded to its widest cell; the last column is
/// not padded.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> Result<(), CliError> {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(cell.chars().count());
            }
        }
    }
    let mut out = std::io::stdout().lock();
    let header: Vec<String> = header.iter().map(|h| (*h).to_string()).collect();
    for row in std::iter::once(&header).chain(rows) {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i + 1 == row.len() {
                line.push_str(cell);
            } else {
                let pad = widths[i].saturating_sub(cell.chars().count());
                line.push_str(cell);
                line.push_str(&" ".repeat(pad + 2));
            }
        }
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}

/// Writes `text` to stdout as it is.
pub fn text(text: &str) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}

/// Levels of indentation a tree shows; deeper lines say their level instead, so that the
/// output stays linear in the number of locations however deep the tree is.
pub const MAX_INDENT: usize = 32;

/// One line of a tree: `Name (TYPE) #id`.
fn tree_label(node: &OutlineNode) -> String {
    format!("{} ({}) #{}", node.name, node.location_type, node.id)
}

/// Renders an outline with box-drawing branches: each top node flush left, its
/// descendants under `├── `, `└── ` and `│   `, each line its node's name. Iterative,
/// linear in the number of nodes.
pub fn render_outline(outline: &Outline) -> String {
    let nodes = outline.nodes();
    // last[i]: node i is the last child of its parent (no later sibling before the
    // subtree ends), found in one backward pass.
    let mut last = vec![false; nodes.len()];
    let mut sibling_after: Vec<bool> = Vec::new();
    for (i, node) in nodes.iter().enumerate().rev() {
        sibling_after.resize(node.depth + 1, false);
        last[i] = !sibling_after[node.depth];
        sibling_after[node.depth] = true;
    }
    let mut out = String::new();
    // ancestor_last[d]: the ancestor at depth d of the current node is a last child.
    let mut ancestor_last: Vec<bool> = Vec::new();
    for (i, node) in nodes.iter().enumerate() {
        ancestor_last.truncate(node.depth);
        if node.depth > 0 {
            for &is_last in ancestor_last.iter().take(MAX_INDENT).skip(1) {
                out.push_str(if is_last { "    " } else { "│   " });
            }
            if node.depth > MAX_INDENT {
                out.push_str(&format!("… (level {}) ", node.depth));
            }
            out.push_str(if last[i] { "└── " } else { "├── " });
        }
        out.push_str(&tree_label(node));
        out.push('\n');
        ancestor_last.push(last[i]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use inventory_core::LocationType;

    fn node(depth: usize, id: i64, name: &str, kind: LocationType) -> OutlineNode {
        OutlineNode {
            depth,
            id,
            name: name.into(),
            description: None,
            location_type: kind,
            parent_id: None,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    #[test]
    fn tree_uses_box_drawing_branches() {
        let outline = Outline::from_nodes(vec![
            node(0, 1, "My House", LocationType::House),
            node(1, 2, "Kitchen", LocationType::Room),
            node(2, 4, "Pantry", LocationType::Container),
            node(1, 3, "Office", LocationType::Room),
        ]);
        assert_eq!(
            render_outline(&outline),
            "My House (HOUSE) #1\n├── Kitchen (ROOM) #2\n│   └── Pantry (CONTAINER) #4\n└── Office (ROOM) #3\n"
        );
    }

    #[test]
    fn a_deep_chain_renders_in_linear_size() {
        let depth = 50_000;
        let nodes = (0..depth)
            .map(|d| node(d, d as i64 + 1, "Box", LocationType::Container))
            .collect();
        let text = render_outline(&Outline::from_nodes(nodes));
        assert_eq!(text.lines().count(), depth);
        let widest = text.lines().map(|l| l.chars().count()).max().unwrap_or(0);
        assert!(
            widest < 4 * MAX_INDENT + 60,
            "a line of {widest} characters"
        );
        assert!(text
            .lines()
            .last()
            .is_some_and(|l| l.contains("(level 49999)")));
    }
}
