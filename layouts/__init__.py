"""Component trees for the page. No computation: values in, components out."""
