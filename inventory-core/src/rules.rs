//! Which location type may sit under which: the type rules as data ([`TypeRules`]) and the refusal ([`RuleViolation`]).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::LocationType;

/// Index of a parent in the rule table: 0 is the root, 1.. are the location types.
fn parent_slot(parent: Option<LocationType>) -> usize {
    parent.map_or(0, |t| t.index() + 1)
}

/// The allowed `(parent, child)` pairs; `None` as parent means "at the root".
///
/// Kept as data so that a deployment could relax or tighten them; [`TypeRules::default`]
/// is the product's set: HOUSE only at the root; ROOM under a HOUSE; SHELF under a ROOM or
/// CONTAINER; CONTAINER under a ROOM, SHELF or CONTAINER.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "TypeRulesRepr", into = "TypeRulesRepr")]
pub struct TypeRules {
    /// Sorted and deduplicated, so that equal rule sets compare equal.
    allowed: Vec<(Option<LocationType>, LocationType)>,
    /// `children[parent_slot(p)]` has bit `c.index()` set when `(p, c)` is allowed.
    children: [u8; 5],
}

/// The serialized form: just the pairs.
#[derive(Serialize, Deserialize)]
struct TypeRulesRepr {
    allowed: Vec<(Option<LocationType>, LocationType)>,
}

impl From<TypeRulesRepr> for TypeRules {
    fn from(repr: TypeRulesRepr) -> Self {
        TypeRules::new(repr.allowed)
    }
}

impl From<TypeRules> for TypeRulesRepr {
    fn from(rules: TypeRules) -> Self {
        TypeRulesRepr {
            allowed: rules.allowed,
        }
    }
}

impl Default for TypeRules {
    fn default() -> Self {
        use LocationType::{Container, House, Room, Shelf};
        TypeRules::new([
            (None, House),
            (Some(House), Room),
            (Some(Room), Shelf),
            (Some(Container), Shelf),
            (Some(Room), Container),
            (Some(Shelf), Container),
            (Some(Container), Container),
        ])
    }
}

impl TypeRules {
    /// Rules allowing exactly the given `(parent, child)` pairs (`None` parent = at the root).
    pub fn new(allowed: impl IntoIterator<Item = (Option<LocationType>, LocationType)>) -> Self {
        let mut allowed: Vec<_> = allowed.into_iter().collect();
        allowed.sort_unstable();
        allowed.dedup();
        let mut children = [0u8; 5];
        for &(parent, child) in &allowed {
            children[parent_slot(parent)] |= 1 << child.index();
        }
        TypeRules { allowed, children }
    }

    /// Rules that allow every type anywhere (useful for tests and imports of foreign data).
    pub fn permissive() -> Self {
        let parents = std::iter::once(None).chain(LocationType::ALL.map(Some));
        TypeRules::new(parents.flat_map(|p| LocationType::ALL.map(|c| (p, c))))
    }

    /// The allowed pairs, sorted.
    pub fn pairs(&self) -> &[(Option<LocationType>, LocationType)] {
        &self.allowed
    }

    /// Whether `child` may sit under `parent` (`None` = at the root).
    pub fn allows(&self, parent: Option<LocationType>, child: LocationType) -> bool {
        self.children[parent_slot(parent)] & (1 << child.index()) != 0
    }

    /// `Ok` if `child` may sit under `parent` (`None` = at the root), otherwise why not.
    pub fn check(
        &self,
        parent: Option<LocationType>,
        child: LocationType,
    ) -> Result<(), RuleViolation> {
        if self.allows(parent, child) {
            Ok(())
        } else {
            Err(RuleViolation {
                parent,
                child,
                allowed_parents: self.allowed_parents(child),
            })
        }
    }

    /// Where `child` may sit, sorted: `None` (the root) first, then types in [`LocationType::ALL`] order.
    pub fn allowed_parents(&self, child: LocationType) -> Vec<Option<LocationType>> {
        std::iter::once(None)
            .chain(LocationType::ALL.map(Some))
            .filter(|&p| self.allows(p, child))
            .collect()
    }

    /// Which types may sit under `parent` (`None` = at the root), in [`LocationType::ALL`] order.
    pub fn allowed_children(&self, parent: Option<LocationType>) -> Vec<LocationType> {
        LocationType::ALL
            .into_iter()
            .filter(|&c| self.allows(parent, c))
            .collect()
    }
}

/// A location type placed where the rules do not allow it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub struct RuleViolation {
    /// The parent's type, `None` for the root.
    pub parent: Option<LocationType>,
    /// The type of the location being placed.
    pub child: LocationType,
    /// Where the child's type may go (`None` = at the root), sorted as in [`TypeRules::allowed_parents`].
    pub allowed_parents: Vec<Option<LocationType>>,
}

impl fmt::Display for RuleViolation {
    /// E.g. `a SHELF cannot be under a HOUSE (allowed under: ROOM, CONTAINER)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.parent {
            None => write!(f, "a {} cannot be at the root", self.child)?,
            Some(parent) => write!(f, "a {} cannot be under a {}", self.child, parent)?,
        }
        let at_root = self.allowed_parents.contains(&None);
        let under: Vec<&str> = self
            .allowed_parents
            .iter()
            .flatten()
            .map(|t| t.as_str())
            .collect();
        match (at_root, under.is_empty()) {
            (false, true) => f.write_str(" (allowed: nowhere)"),
            (true, true) => f.write_str(" (allowed: at the root only)"),
            (false, false) => write!(f, " (allowed under: {})", under.join(", ")),
            (true, false) => write!(f, " (allowed at the root or under: {})", under.join(", ")),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use LocationType::{Container, House, Room, Shelf};

    #[test]
    fn house_is_allowed_only_at_the_root() {
        let rules = TypeRules::default();
        assert_eq!(rules.allowed_parents(House), vec![None]);
        assert!(rules.check(None, House).is_ok());
        assert!(rules.check(Some(Room), House).is_err());
    }

    #[test]
    fn room_is_allowed_only_under_a_house() {
        assert_eq!(
            TypeRules::default().allowed_parents(Room),
            vec![Some(House)]
        );
    }

    #[test]
    fn shelf_is_allowed_under_room_or_container() {
        assert_eq!(
            TypeRules::default().allowed_parents(Shelf),
            vec![Some(Room), Some(Container)]
        );
    }

    #[test]
    fn container_is_allowed_under_room_shelf_or_container() {
        assert_eq!(
            TypeRules::default().allowed_parents(Container),
            vec![Some(Room), Some(Container), Some(Shelf)]
        );
    }

    #[test]
    fn allowed_children_of_root_is_house() {
        let rules = TypeRules::default();
        assert_eq!(rules.allowed_children(None), vec![House]);
        assert_eq!(rules.allowed_children(Some(House)), vec![Room]);
        assert_eq!(rules.allowed_children(Some(Room)), vec![Container, Shelf]);
        assert_eq!(rules.allowed_children(Some(Shelf)), vec![Container]);
    }

    #[test]
    fn room_at_root_explains_where_rooms_go() {
        let err = TypeRules::default().check(None, Room).unwrap_err();
        assert_eq!(
            err.to_string(),
            "a ROOM cannot be at the root (allowed under: HOUSE)"
        );
    }

    #[test]
    fn house_under_room_says_root_only() {
        let err = TypeRules::default().check(Some(Room), House).unwrap_err();
        assert_eq!(
            err.to_string(),
            "a HOUSE cannot be under a ROOM (allowed: at the root only)"
        );
    }

    #[test]
    fn shelf_under_house_lists_allowed_parents() {
        let err = TypeRules::default().check(Some(House), Shelf).unwrap_err();
        assert_eq!(
            err,
            RuleViolation {
                parent: Some(House),
                child: Shelf,
                allowed_parents: vec![Some(Room), Some(Container)],
            }
        );
        assert_eq!(
            err.to_string(),
            "a SHELF cannot be under a HOUSE (allowed under: ROOM, CONTAINER)"
        );
    }

    #[test]
    fn type_allowed_nowhere_says_so() {
        let rules = TypeRules::new([(None, House)]);
        assert_eq!(
            rules.check(None, Shelf).unwrap_err().to_string(),
            "a SHELF cannot be at the root (allowed: nowhere)"
        );
    }

    #[test]
    fn type_allowed_at_root_and_under_others_says_both() {
        let rules = TypeRules::new([(None, Container), (Some(Room), Container)]);
        assert_eq!(
            rules.check(Some(House), Container).unwrap_err().to_string(),
            "a CONTAINER cannot be under a HOUSE (allowed at the root or under: ROOM)"
        );
    }

    #[test]
    fn custom_rules_replace_the_defaults() {
        let rules = TypeRules::new([(None, Room)]);
        assert!(rules.check(None, Room).is_ok());
        assert!(rules.check(None, House).is_err());
    }

    #[test]
    fn permissive_rules_allow_everything() {
        let rules = TypeRules::permissive();
        for parent in std::iter::once(None).chain(LocationType::ALL.map(Some)) {
            for child in LocationType::ALL {
                assert!(rules.check(parent, child).is_ok());
            }
        }
    }

    #[test]
    fn rules_with_same_pairs_in_any_order_are_equal() {
        let a = TypeRules::new([(None, House), (Some(House), Room)]);
        let b = TypeRules::new([(Some(House), Room), (None, House), (None, House)]);
        assert_eq!(a, b);
    }

    #[test]
    fn rules_round_trip_through_json() {
        let rules = TypeRules::default();
        let json = serde_json::to_string(&rules).unwrap();
        assert!(json.contains("[null,\"HOUSE\"]"), "{json}");
        let back: TypeRules = serde_json::from_str(&json).unwrap();
        assert_eq!(back, rules);
    }
}
