//! The 8x8 Voice platform simulator. PLACEHOLDER: to be written.
