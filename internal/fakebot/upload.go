package fakebot

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // photos may be JPEG
	_ "image/png"  // or PNG
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
)

// The Bot API's limits on uploads: a photo of at most 10 MB whose width and
// height add up to at most 10000 and whose sides differ at most 20 times, a
// document of at most 50 MB, a caption of at most 1024 characters after
// entity parsing. The fake counts MB as 10^6 bytes and characters as UTF-16
// code units, the stricter readings.
const (
	MaxPhoto         = 10_000_000
	MaxPhotoSides    = 10000
	MaxPhotoRatio    = 20
	MaxDocument      = 50_000_000
	MaxCaptionLength = 1024
	// maxRequest bounds a request's body: a document with its fields.
	maxRequest = MaxDocument + 1<<20
)

// Upload is one file the server accepted with sendPhoto or sendDocument.
type Upload struct {
	// ID is the message_id the server answered (see Message.ID).
	ID int
	// Method is "sendPhoto" or "sendDocument", as the path spelled it.
	Method string
	// ChatID and ThreadID are chat_id and message_thread_id (0 when not
	// sent).
	ChatID   string
	ThreadID int64
	// Caption is the caption after entity parsing, CaptionEntities the
	// entities in it (those Telegram finds by itself in plain text, or
	// those parse_mode HTML made as well), ParseMode parse_mode as sent.
	Caption         string
	CaptionEntities []Entity
	ParseMode       string
	// DisableNotification is disable_notification.
	DisableNotification bool
	// Filename, ContentType and Data are the file part's: the filename of
	// its Content-Disposition, its Content-Type and its bytes.
	Filename, ContentType string
	Data                  []byte
	// Width and Height are a photo's, in pixels.
	Width, Height int
	// Fields holds the form's other parameters as sent.
	Fields map[string]string
	// Header is the HTTP request's header.
	Header http.Header
}

// sendFile checks and records one upload, with method sendPhoto or
// sendDocument, whose body is a multipart/form-data form as the Bot API
// documents for sending files: the parameters as fields, the file as a part
// with a filename.
func (s *Server) sendFile(w http.ResponseWriter, r *http.Request, method string, body []byte) {
	photo := strings.EqualFold(method, "sendPhoto")
	field := "document"
	if photo {
		field = "photo"
	}
	fields, file, err := readForm(r.Header.Get("Content-Type"), body, field)
	if err != nil {
		s.violation(w, "%s: %v", method, err)
		return
	}
	u := Upload{Method: method, Fields: fields, Header: r.Header.Clone()}
	if u.ChatID, err = chatID(optional(fields, "chat_id")); err != nil {
		s.violation(w, "%v", err)
		return
	}
	if v, ok := fields["message_thread_id"]; ok {
		if u.ThreadID, err = integer("message_thread_id", v); err != nil {
			s.violation(w, "%v", err)
			return
		}
	}
	if v, ok := fields["disable_notification"]; ok {
		if u.DisableNotification, err = boolean("disable_notification", v); err != nil {
			s.violation(w, "%v", err)
			return
		}
	}
	u.ParseMode = fields["parse_mode"]
	if u.ParseMode != "" && !strings.EqualFold(u.ParseMode, "HTML") {
		s.violation(w, "parse_mode %q: the fake reads HTML only", u.ParseMode)
		return
	}
	if file == nil {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("Bad Request: there is no %s in the request", field))
		return
	}
	u.Filename, u.ContentType, u.Data = file.FileName(), file.Header.Get("Content-Type"), file.data
	s.mu.Lock()
	known := len(s.chats) == 0 || s.chats[u.ChatID]
	s.mu.Unlock()
	if !known {
		writeError(w, http.StatusBadRequest, "Bad Request: chat not found")
		return
	}
	if c, ok := fields["caption"]; ok {
		if u.ParseMode != "" {
			u.Caption, u.CaptionEntities, err = ParseHTML(c)
			if err != nil {
				writeError(w, http.StatusBadRequest, "Bad Request: can't parse entities: "+err.Error())
				return
			}
		} else {
			u.Caption, u.CaptionEntities = c, findEntities(c, nil)
		}
		if Length(u.Caption) > MaxCaptionLength {
			writeError(w, http.StatusBadRequest, "Bad Request: message caption is too long")
			return
		}
	}
	if len(u.Data) == 0 {
		writeError(w, http.StatusBadRequest, "Bad Request: file must be non-empty")
		return
	}
	if photo {
		if len(u.Data) > MaxPhoto {
			writeError(w, http.StatusBadRequest, "Bad Request: PHOTO_SAVE_FILE_INVALID")
			return
		}
		c, _, err := image.DecodeConfig(bytes.NewReader(u.Data))
		if err != nil {
			writeError(w, http.StatusBadRequest, "Bad Request: IMAGE_PROCESS_FAILED")
			return
		}
		long, short := max(c.Width, c.Height), min(c.Width, c.Height)
		if short == 0 || c.Width+c.Height > MaxPhotoSides || long > MaxPhotoRatio*short {
			writeError(w, http.StatusBadRequest, "Bad Request: PHOTO_INVALID_DIMENSIONS")
			return
		}
		u.Width, u.Height = c.Width, c.Height
	} else if len(u.Data) > MaxDocument {
		writeError(w, http.StatusRequestEntityTooLarge, "Request Entity Too Large")
		return
	}
	s.mu.Lock()
	u.ID = s.nextID
	s.nextID++
	s.uploads = append(s.uploads, u)
	s.mu.Unlock()
	result := messageResult(u.ID, u.ChatID, u.ThreadID)
	id := fmt.Sprintf("file-%d", u.ID)
	if photo {
		result["photo"] = []map[string]any{{"file_id": id, "file_unique_id": id, "width": u.Width, "height": u.Height, "file_size": len(u.Data)}}
	} else {
		result["document"] = map[string]any{"file_id": id, "file_unique_id": id, "file_name": u.Filename, "mime_type": u.ContentType, "file_size": len(u.Data)}
	}
	if u.Caption != "" {
		result["caption"] = u.Caption
		if len(u.CaptionEntities) > 0 {
			result["caption_entities"] = u.CaptionEntities
		}
	}
	writeAnswer(w, http.StatusOK, answer{OK: true, Result: result})
}

// optional returns fields[k] as a value for chatID: nil when missing.
func optional(fields map[string]string, k string) any {
	if v, ok := fields[k]; ok {
		return v
	}
	return nil
}

// filePart is a part of a form that uploads a file.
type filePart struct {
	*multipart.Part
	data []byte
}

// readForm reads a multipart/form-data body: its fields, each named once,
// and the file part named file, which must have a filename (a file_id or
// URL in a plain field is not what f2b-notify sends). No other part may be
// a file.
func readForm(contentType string, body []byte, file string) (map[string]string, *filePart, error) {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return nil, nil, fmt.Errorf("Content-Type %q: %v", contentType, err)
	}
	if mt != "multipart/form-data" {
		return nil, nil, fmt.Errorf("Content-Type %s, want multipart/form-data to upload a file", mt)
	}
	if params["boundary"] == "" {
		return nil, nil, errors.New("Content-Type multipart/form-data without a boundary")
	}
	mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	fields := map[string]string{}
	var fp *filePart
	seen := map[string]bool{}
	for {
		p, err := mr.NextRawPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("multipart body: %v", err)
		}
		name := p.FormName()
		if name == "" {
			return nil, nil, fmt.Errorf("a part without Content-Disposition: form-data and a name (%q)", p.Header.Get("Content-Disposition"))
		}
		if seen[name] {
			return nil, nil, fmt.Errorf("parameter %s sent twice", name)
		}
		seen[name] = true
		data, err := io.ReadAll(p)
		if err != nil {
			return nil, nil, fmt.Errorf("multipart body, part %s: %v", name, err)
		}
		switch {
		case name == file && p.FileName() == "":
			return nil, nil, fmt.Errorf("%s is not a file part: its Content-Disposition has no filename", name)
		case name == file:
			fp = &filePart{Part: p, data: data}
		case p.FileName() != "":
			return nil, nil, fmt.Errorf("file part %s is not a parameter of the method", name)
		default:
			fields[name] = string(data)
		}
	}
	return fields, fp, nil
}
