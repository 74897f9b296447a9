"""The customer portal: what a client member sees of their own customer's business."""
