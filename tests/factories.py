"""factory-boy factories. Synthetic data only."""

import factory
from django.contrib.auth.models import Group
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User

TEST_PASSWORD = "correct-horse-battery-9"  # test-only


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"staff{n:04d}")
    first_name = "Test"
    last_name = factory.Sequence(lambda n: f"Synthetic{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@test.invalid")
    password = factory.django.Password(TEST_PASSWORD)

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if create and extracted:
            # get_or_create: a transactional (browser) test empties every table,
            # including the role groups the data migration made.
            self.groups.add(Group.objects.get_or_create(name=extracted)[0])

    @factory.post_generation
    def device(self, create, extracted, **kwargs):
        # A confirmed TOTP device unless device=False.
        if create and extracted is not False:
            TOTPDevice.objects.create(user=self, name="Authenticator app", confirmed=True)
