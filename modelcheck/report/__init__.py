"""What users read: step descriptions and the text and JSON results, invariant
explanations, Mermaid and DOT diagrams, and the HTML report."""
