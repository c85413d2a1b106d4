module inplace-conformance/pause

go 1.22
