//! `bit_flags!`: the typed flag words of the crate (clone flags, namespaces, open flags, modes,
//! wait options), so that a flag of one kind cannot be passed where another is expected. No
//! dependency: a small macro, in the style of the `bitflags` crate.

/// Defines a `Copy` newtype over an integer with named constants, the set operations (`|`, `&`,
/// `-` as difference, `!` within the known bits), `contains`/`intersects`, `bits`, and a `Debug`
/// that names the flags (`CloneFlags(CLONE_VM | CLONE_VFORK)`; unknown bits in hex).
macro_rules! bit_flags {
    // With `; pub mod NAME { ... }`: also a module of the same constants, as `NAME::FLAG`, for the
    // `use NAME::*` style of C code.
    (
        $(#[$meta:meta])*
        pub struct $name:ident: $int:ty;
        $(#[$mod_meta:meta])*
        pub mod $module:ident {
            $(
                $(#[$flag_meta:meta])*
                const $flag:ident = $value:expr;
            )*
        }
    ) => {
        $crate::bits::bit_flags! {
            $(#[$meta])*
            pub struct $name: $int {
                $(
                    $(#[$flag_meta])*
                    const $flag = $value;
                )*
            }
        }

        $(#[$mod_meta])*
        pub mod $module {
            $(
                $(#[$flag_meta])*
                pub const $flag: super::$name = super::$name::$flag;
            )*
        }
    };
    (
        $(#[$meta:meta])*
        pub struct $name:ident: $int:ty {
            $(
                $(#[$flag_meta:meta])*
                const $flag:ident = $value:expr;
            )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
        #[repr(transparent)]
        pub struct $name($int);

        #[allow(dead_code)]
        impl $name {
            $(
                $(#[$flag_meta])*
                pub const $flag: $name = $name($value);
            )*

            /// No flag.
            pub const fn empty() -> $name {
                $name(0)
            }

            /// Every flag this type names.
            pub const fn all() -> $name {
                $name(0 $(| $value)*)
            }

            /// The flags from their bit pattern, unknown bits included (the kernel decides what
            /// it accepts).
            pub const fn from_bits_retain(bits: $int) -> $name {
                $name(bits)
            }

            /// The bit pattern.
            pub const fn bits(self) -> $int {
                self.0
            }

            /// Whether no bit is set.
            pub const fn is_empty(self) -> bool {
                self.0 == 0
            }

            /// Whether every flag of `other` is set in `self`.
            pub const fn contains(self, other: $name) -> bool {
                self.0 & other.0 == other.0
            }

            /// Whether `self` and `other` share a flag.
            pub const fn intersects(self, other: $name) -> bool {
                self.0 & other.0 != 0
            }

            /// The flags of both (`|`, usable in `const` contexts).
            pub const fn union(self, other: $name) -> $name {
                $name(self.0 | other.0)
            }

            /// The flags of `self` that `other` does not have (`-`).
            pub const fn difference(self, other: $name) -> $name {
                $name(self.0 & !other.0)
            }

            /// The flags of `self` that `other` has too (`&`).
            pub const fn intersection(self, other: $name) -> $name {
                $name(self.0 & other.0)
            }

            /// The bits of `self` that this type does not name.
            pub const fn unknown_bits(self) -> $int {
                self.0 & !Self::all().0
            }

            /// The named flags, for `Debug`.
            const NAMES: &'static [(&'static str, $name)] = &[$((stringify!($flag), $name($value))),*];
        }

        impl core::ops::BitOr for $name {
            type Output = $name;
            fn bitor(self, other: $name) -> $name {
                self.union(other)
            }
        }

        impl core::ops::BitOrAssign for $name {
            fn bitor_assign(&mut self, other: $name) {
                *self = self.union(other);
            }
        }

        impl core::ops::BitAnd for $name {
            type Output = $name;
            fn bitand(self, other: $name) -> $name {
                self.intersection(other)
            }
        }

        impl core::ops::BitAndAssign for $name {
            fn bitand_assign(&mut self, other: $name) {
                *self = self.intersection(other);
            }
        }

        impl core::ops::Sub for $name {
            type Output = $name;
            fn sub(self, other: $name) -> $name {
                self.difference(other)
            }
        }

        impl core::ops::SubAssign for $name {
            fn sub_assign(&mut self, other: $name) {
                *self = self.difference(other);
            }
        }

        impl core::ops::Not for $name {
            type Output = $name;
            /// The named flags `self` does not have.
            fn not(self) -> $name {
                Self::all().difference(self)
            }
        }

        impl core::fmt::Debug for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                $crate::bits::debug_flags(f, stringify!($name), self.0 as u64, self.unknown_bits() as u64, &mut Self::NAMES.iter().map(|&(n, v)| (n, v.0 as u64)))
            }
        }
    };
}
pub(crate) use bit_flags;

/// `Name(A | B | 0x40)`: the named flags set in `bits` (a name is shown when all of its bits are
/// set, and not already covered), then the unknown bits in hex; `Name(empty)` for none.
pub(crate) fn debug_flags(
    f: &mut core::fmt::Formatter<'_>,
    type_name: &str,
    bits: u64,
    unknown: u64,
    names: &mut dyn Iterator<Item = (&'static str, u64)>,
) -> core::fmt::Result {
    f.write_str(type_name)?;
    f.write_str("(")?;
    let mut shown = 0u64;
    let mut first = true;
    for (name, value) in names {
        if value != 0 && bits & value == value && shown & value != value {
            if !first {
                f.write_str(" | ")?;
            }
            f.write_str(name)?;
            shown |= value;
            first = false;
        }
    }
    if unknown != 0 {
        if !first {
            f.write_str(" | ")?;
        }
        write!(f, "{unknown:#x}")?;
        first = false;
    }
    if first {
        f.write_str("empty")?;
    }
    f.write_str(")")
}
