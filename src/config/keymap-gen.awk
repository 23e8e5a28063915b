# Turns keymaps/*.keys into a C file holding each key map as a string, so
# that facteur works without its installed data. Characters that C would
# read specially (backslash, quote, and ? for trigraphs) are escaped.
BEGIN {
	print "/* Generated from the keymaps folder by src/config/keymap-gen.awk. */"
	print "#include \"config/private.h\""
	print ""
	print "const struct config_builtin_keymap config_builtin_keymaps[] = {"
	n = 0
}
FNR == 1 {
	if (n > 0)
		print "\t},"
	name = FILENAME
	sub(/.*\//, "", name)
	sub(/\.keys$/, "", name)
	print "\t{ \"" name "\","
	n++
}
{
	s = ""
	for (i = 1; i <= length($0); i++) {
		c = substr($0, i, 1)
		if (c == "\\" || c == "\"" || c == "?")
			s = s "\\"
		s = s c
	}
	print "\t    \"" s "\\n\""
}
END {
	if (n > 0)
		print "\t},"
	print "};"
	print "const size_t config_nbuiltin_keymaps = " n ";"
}
