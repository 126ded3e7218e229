"""The trio side of the client: the guest run and one worker per connection."""
