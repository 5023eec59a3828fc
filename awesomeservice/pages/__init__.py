"""What people see on AwesomeService: accounts, Connect Mockgram, photos, orders."""
