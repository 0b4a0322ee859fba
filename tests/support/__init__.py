"""Helpers the test suite shares: real servers started for the tests."""
