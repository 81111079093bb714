//! HELO (log in, then select INBOX) and FOLD (select another mailbox).

use daemon::Credentials;

use super::{Session, State};
use crate::error::Error;
use crate::host::Host;
use crate::maildrop::{MailSettings, Maildrop};

impl<H: Host> Session<'_, H> {
    pub(super) fn helo(&mut self, user: String, password: String) -> Result<(), Error> {
        let account = self
            .host
            .login(Credentials::password("HELO", &user, &password))?;
        self.user = Some(account.name.clone());
        self.settings = Some(MailSettings::new(self.host.config(), &account));
        self.fold("INBOX")
    }

    /// Applies what was done in the current mailbox (as UW expunged on FOLD),
    /// then locks and opens `name`. A mailbox that does not exist is empty.
    pub(super) fn fold(&mut self, name: &str) -> Result<(), Error> {
        self.commit()?;
        let settings = self.settings.as_ref().ok_or(Error::WrongState)?;
        let store = settings.store(self.host.mail_log());
        let maildrop = Maildrop::open_missing_ok(&store, name)?;
        let text = format!("#{} messages in {}", maildrop.len(), maildrop.name());
        self.maildrop = Some(maildrop);
        self.current = 1;
        self.item = None;
        self.state = State::Mbox;
        self.line(&text)
    }
}
