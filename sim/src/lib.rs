//! Simulators of external systems.
