"""Request and response bodies, field for field as Ringg documents them."""
