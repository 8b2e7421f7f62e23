"""Pure value objects: levels, regions, answers, the intake, the decision."""
