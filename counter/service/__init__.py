"""The counter service (`counter serve`): one per site, the only process that
opens the database and holds the agencies' credentials; terminals and
administrators' commands are its clients over a Unix socket."""
