package httpapi

// unimplemented lists the spec operations Parley does not serve yet; each answers 501
// (20501). docs/compatibility.md lists them too, and a test keeps the three in step.
var unimplemented = [][2]string{}
