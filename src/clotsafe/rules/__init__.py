"""The screening policy (POLICY.md): evaluate(intake, at=..., settings=...) -> Decision."""
