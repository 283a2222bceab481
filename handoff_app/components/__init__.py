"""Small UI pieces shared by pages."""
