// The contacts page beyond the upload panel (contacts-import.js): browsing and lists.
