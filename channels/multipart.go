package channels

import (
	"bytes"
	"fmt"
	"mime/multipart"
	"net/textproto"
)

// formPart is one part of a multipart/form-data body (RFC 7578): a field,
// or a file when Filename is set.
type formPart struct {
	Name     string
	Value    []byte
	Filename string // the file's name; "" for a plain field
	Type     string // the part's Content-Type; "" for none (a plain field)
}

// formFile is the part that uploads a, as field name.
func formFile(name string, a Attachment) formPart {
	typ := a.Type
	if typ == "" {
		typ = "application/octet-stream"
	}
	return formPart{Name: name, Value: a.Data, Filename: a.Name, Type: typ}
}

// multipartForm encodes parts as a multipart/form-data body, in order. It
// returns the body and its Content-Type, which carries the boundary.
func multipartForm(parts []formPart) ([]byte, string, error) {
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	for _, p := range parts {
		h := textproto.MIMEHeader{}
		if p.Filename != "" {
			h.Set("Content-Disposition", multipart.FileContentDisposition(p.Name, p.Filename))
		} else {
			h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q`, p.Name))
		}
		if p.Type != "" {
			h.Set("Content-Type", p.Type)
		}
		pw, err := w.CreatePart(h)
		if err != nil {
			return nil, "", Permanent(fmt.Errorf("encode the form field %s: %w", p.Name, err))
		}
		if _, err := pw.Write(p.Value); err != nil {
			return nil, "", Permanent(fmt.Errorf("encode the form field %s: %w", p.Name, err))
		}
	}
	if err := w.Close(); err != nil {
		return nil, "", Permanent(fmt.Errorf("encode the form: %w", err))
	}
	return b.Bytes(), w.FormDataContentType(), nil
}

// checkFile refuses to upload an attachment that is empty or larger than
// limit bytes, which the platform (named in limitText, such as
// "Telegram's 50 MB for a file") would refuse: retrying cannot help.
func checkFile(a Attachment, limit int, limitText string) error {
	switch {
	case len(a.Data) == 0:
		return Permanent(fmt.Errorf("%s is empty, nothing to send", a.Name))
	case len(a.Data) > limit:
		return Permanent(fmt.Errorf("%s is %d bytes, over %s", a.Name, len(a.Data), limitText))
	}
	return nil
}
