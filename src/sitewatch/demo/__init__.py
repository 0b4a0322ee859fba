"""The end-to-end demo: a synthetic site with known truth, or real imagery on request."""
