//! Everything that talks to Entra ID and Microsoft Graph over HTTP.
