"""Post-call analysis: summary, classification into the assistant's labels, extraction."""
